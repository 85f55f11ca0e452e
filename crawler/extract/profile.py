"""Site template learning: text blocks that recur on many pages of one site are boilerplate.

A blog repeats its template (author box, share bar, newsletter teaser, reading-time line,
category footer ...) on every page, often inside the content container where no class name
gives it away. Each page yields the fingerprints of its text blocks (`block_fingerprints`, run
in the worker on the already-parsed tree); the crawl adds them to one `SiteProfile` per site;
`SiteProfile.boilerplate()` is the set of fingerprints seen on at least
``max(MIN_PAGES, SHARE * pages)`` distinct pages, which `extract_body` drops from bodies.

Why these defaults:

* ``MIN_PAGES = 6``: a quote shared by two or three posts, or a post's excerpt repeated on a
  handful of related-post boxes, never qualifies, whatever the site's size.
* ``SHARE = 0.3``: template blocks sit on (nearly) every page; 0.3 still catches per-author
  boxes of an author writing a third of the posts and per-category teasers of big categories.
* Short blocks (up to ``SHORT_WORDS`` words: "Fazit", "Technik", "Neueste Beiträge") recur in
  real posts as headings and equal menu or category labels, so they need ``SHORT_SHARE = 0.6`` of
  the pages (their fingerprints say they are short, so the profile needs no text to tell), and
  `learned_blocks` drops them only next to other learned blocks (a teaser's heading, a share
  bar's label, a meta line's fragments), never alone.

Fingerprints count distinct pages, so a sentence an author repeats inside one post counts once.
Feed the profile with posts and pages only: listing pages repeat the posts' own text.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from crawler.extract.markdown import BLOCK_TAGS, SKIP_TAGS

__all__ = [
    "MIN_PAGES",
    "SHARE",
    "SHORT_SHARE",
    "SiteProfile",
    "block_fingerprints",
    "is_short",
    "learned_blocks",
    "load_profile",
    "load_profiles",
    "markdown_fingerprint",
    "normalise",
    "page_blocks",
    "save_profile",
    "text_fingerprint",
]

MIN_PAGES = 6
SHARE = 0.3
SHORT_WORDS = 2
SHORT_SHARE = 0.6
WARMUP_PAGES = 12  # pages a site should have before its profile is used (see `ready`)
MAX_TRACKED = 5000  # fingerprints kept per site; the rarest are pruned beyond this
SAMPLE_CHARS = 80
_FORMAT = 1

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")
_MD_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\([^)]*\)")
_UNFINGERPRINTED = frozenset({"pre", "table"})  # rendered as one block each: never dropped


_MONTHS = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec januar februar märz mai juni juli oktober
    dezember jän mär okt dez janvier février mars avril juin juillet août septembre octobre
    novembre décembre enero febrero marzo abril mayo junio julio agosto septiembre octubre
    noviembre diciembre gennaio febbraio aprile maggio giugno luglio settembre ottobre
    dicembre""".split()  # noqa: SIM905 - a word table reads better as text
)
_STEM = 6  # letters kept of each word in a line with numbers ("Minute"/"Minuten")
_TEMPLATE_WORDS = 12  # a line with numbers up to this long may be a template line


def normalise(text: str) -> str:
    """Case-folded words joined by single spaces; punctuation and whitespace differences vanish.

    A short line (up to 12 words) with numbers and at least one word without digits may be a
    template line whose numbers vary: digit runs become "0", month names too, and words keep
    their first six letters, so "Lesezeit: 1 Minute" matches "Lesezeit: 4 Minuten",
    "3 Kommentare" matches "1 Kommentar" and "am 3. März 2024" matches "am 12. April 2025".
    Longer text with two or more words without digits only has its digit runs made "0";
    "v1.0 (2015)" (no word without digits) keeps its numbers.
    """
    words = _WORD.findall(text.casefold())
    plain = sum(1 for w in words if not _DIGITS.search(w))
    if plain == len(words) or not plain:
        return " ".join(words)
    if len(words) > _TEMPLATE_WORDS:  # running text: its numbers only
        return _DIGITS.sub("0", " ".join(words)) if plain >= 2 else " ".join(words)
    out = []
    for w in words:
        if _DIGITS.search(w):
            out.append(_DIGITS.sub("0", w))
        elif w in _MONTHS:
            out.append("0")
        else:
            out.append(w[:_STEM])
    return " ".join(out)


def text_fingerprint(text: str, linked: bool = False) -> str | None:
    """Stable fingerprint of a block's text; None when it has no words.

    16 hex digits, then "l" when all its words are link text (menus, recent-post lists: the
    title of a post in a sidebar list must not match the same words as a heading in a post),
    then "s" for a short block of at most SHORT_WORDS words (needs a larger share of pages).
    """
    norm = normalise(text)
    if not norm:
        return None
    digest = hashlib.blake2b(norm.encode("utf-8"), digest_size=8).hexdigest()
    return digest + ("l" if linked else "") + ("s" if norm.count(" ") < SHORT_WORDS else "")


def markdown_fingerprint(text: str, markdown: str) -> str | None:
    """`text_fingerprint` of a rendered body block, link-only when its Markdown is all links."""
    linked = not _WORD.search(_MD_LINK.sub(" ", markdown))
    return text_fingerprint(text, linked=linked)


def is_short(fingerprint: str) -> bool:
    """Whether the fingerprint is that of a short block (see `text_fingerprint`)."""
    return fingerprint.endswith("s")


def _is_link(el: etree._Element) -> bool:
    """An <a> the Markdown renderer writes as a link (same rule as `markdown._Renderer`)."""
    href = (el.get("href") or "").strip()
    return bool(href) and not href.startswith(("#", "javascript:", "mailto:"))


def _segments(root: etree._Element) -> list[tuple[str, bool]]:
    """The page's block texts, split at the same boundaries as `markdown.render_blocks`, each
    with whether all its words are inside links."""
    out: list[tuple[str, bool]] = []
    buf: list[str] = []
    linked = [True]  # all words so far inside <a>

    def flush() -> None:
        if buf:
            out.append(("".join(buf), linked[0]))
            buf.clear()
        linked[0] = True

    def add(text: str, in_link: bool) -> None:
        buf.append(text)
        if not in_link and linked[0] and _WORD.search(text):
            linked[0] = False

    def walk(el: etree._Element, in_link: bool) -> None:
        tag = el.tag
        if not isinstance(tag, str):
            return
        tag = tag.lower()
        if tag in SKIP_TAGS:
            return
        if tag == "br":
            buf.append(" ")
            return
        if tag in _UNFINGERPRINTED:
            flush()
            return
        block = tag in BLOCK_TAGS
        if block:
            flush()
        inner = in_link or (tag == "a" and _is_link(el))
        if el.text:
            add(el.text, inner)
        for child in el:
            walk(child, inner)
            if child.tail:
                add(child.tail, inner)
        if block:
            flush()

    walk(root, False)
    flush()
    return out


def page_blocks(tree: etree._Element) -> list[tuple[str, str]]:
    """(fingerprint, text) of each distinct text block of the page, in page order."""
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for text, linked in _segments(root):
        fp = text_fingerprint(text, linked)
        if fp is not None and fp not in seen:
            seen.add(fp)
            out.append((fp, text))
    return out


def block_fingerprints(tree: etree._Element) -> list[str]:
    """Fingerprints of the page's distinct text blocks (p, li, h1-h6, blockquote paragraphs,
    figcaption, div/section text ...), in page order. Never mutates `tree`."""
    return [fp for fp, _ in page_blocks(tree)]


def learned_blocks(
    blocks: Sequence[tuple[str, str] | None], boilerplate: frozenset[str]
) -> list[bool]:
    """Which of a body's blocks ((text, markdown) in order; None: not a candidate) to drop as
    learned boilerplate.

    A block qualifies when its fingerprint is in `boilerplate` and it sits in a run of consecutive
    qualifying blocks of more than SHORT_WORDS words together: a lone "Technik" heading that is
    also a category label stays; "Veröffentlicht" / "in" / "von" meta fragments go.
    """
    texts = [b[0] if b is not None else "" for b in blocks]
    fps = [markdown_fingerprint(*b) if b is not None else None for b in blocks]
    hit = [fp is not None and fp in boilerplate for fp in fps]
    out = [False] * len(texts)
    i = 0
    while i < len(texts):
        if not hit[i]:
            i += 1
            continue
        j = i
        while j < len(texts) and hit[j]:
            j += 1
        words = sum(len(normalise(texts[k]).split()) for k in range(i, j))
        if words > SHORT_WORDS:
            out[i:j] = [True] * (j - i)
        i = j
    return out


def _sample(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SAMPLE_CHARS else text[: SAMPLE_CHARS - 1] + "…"


@dataclass
class _Entry:
    pages: int
    sample: str = ""


@dataclass
class SiteProfile:
    """Per-site counts of text blocks over the pages seen so far."""

    site: str = ""
    pages: int = 0
    max_tracked: int = MAX_TRACKED
    _blocks: dict[str, _Entry] = field(default_factory=dict, repr=False)
    _cache: frozenset[str] | None = field(default=None, repr=False, compare=False)

    def add_page(
        self, fingerprints: Iterable[str], samples: Mapping[str, str] | None = None
    ) -> None:
        """Count one page (its fingerprints are made distinct here too). `samples` (fingerprint
        -> text, e.g. from `page_blocks`) fills the audit samples of `explain`."""
        self.pages += 1
        page = list(dict.fromkeys(fingerprints))
        for fp in page:
            entry = self._blocks.get(fp)
            if entry is None:
                text = samples.get(fp, "") if samples else ""
                entry = self._blocks[fp] = _Entry(0, _sample(text) if text else "")
            entry.pages += 1
        if len(self._blocks) > self.max_tracked:
            self._prune()
        if self._cache is not None:
            # Counts only grow and thresholds only rise: a block can join only if it is on this
            # page, and leave only if it was in; no need to scan every tracked block.
            self._cache = self._boilerplate_among((*self._cache, *page))

    def note_samples(self, texts: Iterable[str]) -> None:
        """Record sample texts (e.g. a `Body.removed` list) for tracked fingerprints lacking one."""
        for text in texts:
            for linked in (False, True):
                fp = text_fingerprint(text, linked)
                entry = self._blocks.get(fp) if fp else None
                if entry is not None and not entry.sample:
                    entry.sample = _sample(text)

    def _prune(self) -> None:
        """Drop the rarest fingerprints (seen once first) until the table is half full."""
        floor = 1
        target = self.max_tracked // 2
        while len(self._blocks) > target:
            self._blocks = {fp: e for fp, e in self._blocks.items() if e.pages > floor}
            floor += 1

    def threshold(self, short: bool = False) -> int:
        """Distinct pages a block (a short one: `short`) needs to count as boilerplate."""
        return max(MIN_PAGES, math.ceil((SHORT_SHARE if short else SHARE) * self.pages))

    @property
    def ready(self) -> bool:
        """Enough pages for `boilerplate()` to be trusted on the pages seen so far."""
        return self.pages >= WARMUP_PAGES

    def boilerplate(self) -> frozenset[str]:
        """Fingerprints present on at least max(MIN_PAGES, SHARE × pages) distinct pages."""
        if self._cache is None:
            self._cache = self._boilerplate_among(self._blocks)
        return self._cache

    def _boilerplate_among(self, fingerprints: Iterable[str]) -> frozenset[str]:
        long_min, short_min = self.threshold(), self.threshold(short=True)
        blocks = self._blocks
        return frozenset(
            fp
            for fp in fingerprints
            if (e := blocks.get(fp)) is not None
            and e.pages >= (short_min if is_short(fp) else long_min)
        )

    def explain(self) -> list[dict[str, Any]]:
        """The learned blocks, most frequent first: fingerprint, pages, share, sample text."""
        learned = self.boilerplate()
        rows = [
            {
                "fingerprint": fp,
                "pages": e.pages,
                "share": round(e.pages / self.pages, 3) if self.pages else 0.0,
                "sample": e.sample,
            }
            for fp, e in self._blocks.items()
            if fp in learned
        ]
        rows.sort(key=lambda r: (-r["pages"], r["sample"]))
        return rows

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict; fingerprints seen on one page only are left out (they carry no
        evidence yet and are the first to be pruned anyway)."""
        return {
            "format": _FORMAT,
            "site": self.site,
            "pages": self.pages,
            "blocks": {fp: [e.pages, e.sample] for fp, e in self._blocks.items() if e.pages > 1},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> SiteProfile:
        """Inverse of `to_json` (accepts the dict or its JSON text)."""
        obj: Mapping[str, Any] = json.loads(data) if isinstance(data, str) else data
        if obj.get("format") != _FORMAT:
            raise ValueError(f"unknown site profile format {obj.get('format')!r}")
        profile = cls(site=str(obj.get("site") or ""), pages=int(obj["pages"]))
        for fp, (pages, sample) in obj["blocks"].items():
            profile._blocks[fp] = _Entry(int(pages), str(sample))
        return profile


# -- persistence: one JSON file per archive, keyed by site -------------------------------------


def load_profiles(path: str | os.PathLike[str]) -> dict[str, SiteProfile]:
    """Every site's profile stored at `path` ({} when the file does not exist)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {}
    return {site: SiteProfile.from_json(obj) for site, obj in data.get("sites", {}).items()}


def load_profile(path: str | os.PathLike[str], site: str) -> SiteProfile:
    """The stored profile of `site`, or an empty one."""
    return load_profiles(path).get(site) or SiteProfile(site=site)


def save_profiles(path: str | os.PathLike[str], profiles: Iterable[SiteProfile]) -> None:
    """Store profiles at `path` (replacing those sites, keeping the others), atomically."""
    target = Path(path)
    data = {"format": _FORMAT, "sites": {}}
    stored = load_profiles(target)
    stored.update({p.site: p for p in profiles})
    data["sites"] = {site: stored[site].to_json() for site in sorted(stored)}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_profile(path: str | os.PathLike[str], profile: SiteProfile) -> None:
    """Store one site's profile at `path`, keeping the other sites' (atomic replace)."""
    save_profiles(path, [profile])

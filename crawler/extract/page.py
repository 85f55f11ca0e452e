"""One page in, all the crawl needs out: parse once, classify, find links, build the record."""

from __future__ import annotations

import re
import threading
from datetime import datetime

from lxml import etree
from lxml import html as lxml_html
from pydantic import ValidationError

from crawler.extract import links
from crawler.extract.body import extract_body
from crawler.extract.classify import classify
from crawler.extract.comments import find_comments
from crawler.extract.metadata import extract_metadata
from crawler.extract.profile import SAMPLE_CHARS, block_fingerprints, page_blocks
from crawler.extract.types import Hints, PageAnalysis
from crawler.urls import record_identity
from schemas import Comment, ExtractedRecord, Extractor, PostRecord, content_hash
from schemas.post import clean_text
from schemas.version import VERSION, package_version

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
MAX_REPLACEMENT_SHARE = 0.02


EXTRACTOR = Extractor(
    name="blogarchive",
    version=f"{VERSION} (trafilatura {package_version('trafilatura')})",
)


class PageError(ValueError):
    """The bytes are not a usable HTML document; the message says why."""


def is_html_response(content_type: str, body: bytes) -> bool:
    """An HTML page by its Content-Type (lower case), or, when that is missing or generic
    (text/plain, octet-stream), by how its body starts."""
    if "html" in content_type:
        return True
    if content_type and not content_type.startswith(("text/plain", "application/octet-stream")):
        return False
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def decode_html(body: bytes, encoding: str | None) -> str:
    """Decode with the encoding the HTTP layer detected; refuse text that is mostly garbage."""
    if not body.strip():
        raise PageError("empty page")
    text = body.decode(encoding or "utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad and bad / len(text) > MAX_REPLACEMENT_SHARE:
        raise PageError(f"broken encoding: {bad} undecodable characters as {encoding or 'utf-8'}")
    return _XML_DECLARATION.sub("", text, count=1)


#: libxml2 cuts a document off at a text node over 10 MB (its limit without huge_tree), so
#: a page with a huge script (a 10 MB JSON-LD field) would lose everything after it
MAX_SCRIPT_CHARS = 1_000_000
_SCRIPT = re.compile(r"(<(script|style)\b[^>]*>)(.*?)(</\2\s*>)", re.IGNORECASE | re.DOTALL)


def _drop_huge_scripts(text: str) -> str:
    """Empty every `<script>`/`<style>` element longer than MAX_SCRIPT_CHARS."""

    def shrink(m: re.Match[str]) -> str:
        return m.group(0) if len(m.group(3)) <= MAX_SCRIPT_CHARS else m.group(1) + m.group(4)

    return _SCRIPT.sub(shrink, text)


_PARSERS = threading.local()  # lxml parsers are not shared between threads


def _parser() -> lxml_html.HTMLParser:
    """The HTML parser, without comments and processing instructions: no step reads them,
    and trafilatura loses the text that follows a comment in a tree it is given."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True)
    return parser


def parse_html(text: str) -> lxml_html.HtmlElement:
    if len(text) > MAX_SCRIPT_CHARS:
        text = _drop_huge_scripts(text)
    try:
        tree = lxml_html.document_fromstring(text, parser=_parser())
    except (etree.ParserError, ValueError) as exc:
        raise PageError(f"unparseable HTML: {exc}") from exc
    _merge_extra_roots(tree)
    if tree.find("body") is None and not len(tree):
        raise PageError("no HTML body")
    return tree


def _merge_extra_roots(root: lxml_html.HtmlElement) -> None:
    """Move elements that libxml2 left beside the root (a page that opens `<html>` twice)
    into it: every later step walks the root, and `//` XPaths would see them otherwise."""
    extra = [el for el in root.itersiblings() if isinstance(el.tag, str)]
    if not extra:
        return
    body = root.find("body")
    if body is None:
        body = lxml_html.Element("body")
        root.append(body)
    for el in extra:
        parts = list(el) if el.tag == "html" else [el]
        for part in parts:
            if part.tag == "body":
                body.extend(list(part))
            elif part.tag != "head":
                body.append(part)
        if el.tag == "html":
            lxml_html.Element("div").append(el)  # appending elsewhere takes it out of the page


def analyse_page(
    body: bytes,
    url: str,
    *,
    encoding: str | None = None,
    hints: Hints | None = None,
    site: str | None = None,
    status: int = 200,
    fetched_at: datetime | None = None,
    site_root: bool = False,
    extract: bool = True,
    boilerplate: frozenset[str] = frozenset(),
    block_samples: bool = False,
    want_links: bool = True,
) -> PageAnalysis:
    """Classify one HTML page, collect its links and, for posts and pages, build its record.

    Posts and pages also get their block fingerprints (for the site's `SiteProfile`); their
    body loses the blocks in `boilerplate` (the profile's learned set), listed in `removed`.

    Raises PageError when the bytes are not a usable HTML document.
    """
    tree = parse_html(decode_html(body, encoding))
    base = links.base_url(tree, url)
    kind, signals = classify(tree, url, hints, site_root=site_root)
    analysis = PageAnalysis(
        kind=kind,
        signals=signals,
        canonical_url=links.canonical_link(tree, base),
        links=links.anchors(tree, base) if want_links or kind == "listing" else [],
        feed_links=links.feed_links(tree, base),
        comment_feeds=links.site_comment_feeds(tree, base),
        next_links=links.next_links(tree, base, url) if kind == "listing" else [],
        comment_feed=links.comment_feed_link(tree, base, url) if kind != "listing" else None,
    )
    if kind == "listing":
        analysis.entry_links = links.entry_links(tree, base)
    elif block_samples:  # listings repeat their posts' text: they must not feed the profile
        blocks = page_blocks(tree)
        analysis.fingerprints = [fp for fp, _ in blocks]
        analysis.block_samples = {fp: text[:SAMPLE_CHARS] for fp, text in blocks}
    else:
        analysis.fingerprints = block_fingerprints(tree)
    if kind != "listing" and extract:
        analysis.record, analysis.skip_reason = build_record(
            tree,
            url,
            kind,
            hints=hints,
            site=site or url,
            status=status,
            fetched_at=fetched_at,
            boilerplate=boilerplate,
            removed=analysis.removed,
        )
    return analysis


def build_record(
    tree: lxml_html.HtmlElement,
    url: str,
    kind: str,
    *,
    hints: Hints | None,
    site: str,
    status: int,
    fetched_at: datetime | None,
    boilerplate: frozenset[str] = frozenset(),
    removed: list[str] | None = None,
) -> tuple[PostRecord | None, str | None]:
    """The validated record of a post or page, or None and the reason there is none.

    A page without a title still gets its record (title null); without a URL (`url` empty)
    it is an `ExtractedRecord` with null URL fields.

    `boilerplate`: the site's learned block fingerprints, dropped from the body; the dropped
    texts are appended to `removed` when given.
    """
    meta = extract_metadata(tree, url, hints)
    found = find_comments(tree, url)
    comments, comments_status, comments_system = found.comments, found.status, found.system
    body = extract_body(tree, url, boilerplate, exclude=found.boxes)
    if body is not None and removed is not None:
        removed.extend(body.removed)
    text = clean_text(body.text) if body is not None else ""
    if body is None or not text.strip():
        return None, "no article body found"
    title = meta.get("title") or (hints.title if hints else None)  # a status post has none
    declared = meta.get("canonical_url")
    canonical = record_identity(url, declared, site) if url else declared
    model = PostRecord if url else ExtractedRecord  # a page read from a file may have no URL
    try:
        record = model(
            url=url or None,
            canonical_url=canonical or None,
            declared_canonical_url=declared if declared and declared != canonical else None,
            site=site or None,
            kind=kind,
            title=title,
            authors=meta.get("authors") or [],
            published=meta.get("published"),
            updated=meta.get("updated"),
            categories=meta.get("categories") or [],
            tags=meta.get("tags") or [],
            language=meta.get("language"),
            description=meta.get("description"),
            site_name=meta.get("site_name"),
            image=meta.get("image"),
            text=text,
            markdown=clean_text(body.markdown),
            comments=[Comment(**c) for c in comments],
            comments_status=comments_status,
            comments_system=comments_system,
            word_count=len(text.split()),
            content_hash=content_hash(text),
            fetched_at=fetched_at or datetime.now().astimezone(),
            status=status,
            extractor=EXTRACTOR,
            sources=meta.get("sources") or {},
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return None, f"invalid record: {problems}"
    return record, None

"""Ground truth of the blogfarm and sitefarm sites in one shape, and a per-field scorer of an
archive against it (used by the integration tests and runnable by hand:
`python -m tests.groundtruth ARCHIVE_DIR PORT`)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from archive.scoring import score_corpus
from tests.blogfarm import ROOT, THEMES, groundtruth

SITEFARM = Path(os.environ.get("SITEFARM_DIR", ROOT.parent / "shared" / "sitefarm"))
SITEFARM_SITES = {18101: "minima", 18105: "hexo"}
FIELDS = ("title", "authors", "published", "categories", "tags")


def loose(text: str | None) -> str | None:
    """Typography aside: themes print ’ where the ground truth has '."""
    return text.replace("’", "'").replace("‘", "'") if text else text


def truth_for_port(port: int) -> list[dict]:
    """One dict per post or page: url, type, title, author, published, categories, tags,
    shown (which of title/author/categories/tags the page shows), body_text, comments, and
    the comment system when comments are JavaScript (`js_comments`)."""
    if port in THEMES:
        rows = []
        for g in groundtruth():
            shown = {"title": True, "author": True, "categories": True, "tags": True}
            if g["type"] == "page":
                shown = {"title": True, "author": False, "categories": False, "tags": False}
            rows.append({**g, "url": g["urls_by_theme"][THEMES[port]], "shown": shown})
        return rows
    path = SITEFARM / "groundtruth" / f"{SITEFARM_SITES[port]}.jsonl"
    with open(path, encoding="utf-8") as fh:
        return [{**json.loads(line), "js_comments": "disqus"} for line in fh if line.strip()]


@dataclass
class Score:
    records: int = 0
    duplicates: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    wrong_kind: list[str] = field(default_factory=list)
    body_f1: float = 0.0
    code_wrong: list[str] = field(default_factory=list)
    field_ok: dict[str, float] = field(default_factory=dict)
    field_wrong: dict[str, list[str]] = field(default_factory=dict)
    comments_wrong: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"records {self.records}, duplicates {len(self.duplicates)}, missing "
            f"{len(self.missing)}, extra {len(self.extra)}, wrong kind {len(self.wrong_kind)}, "
            f"body F1 {self.body_f1:.4f}, code wrong {len(self.code_wrong)}, comments wrong "
            f"{len(self.comments_wrong)}",
            "fields: " + ", ".join(f"{k} {v:.3f}" for k, v in self.field_ok.items()),
        ]
        for name in ("missing", "extra", "wrong_kind", "code_wrong", "comments_wrong"):
            if getattr(self, name):
                lines.append(f"  {name}: {getattr(self, name)[:6]}")
        for name, wrong in self.field_wrong.items():
            if wrong:
                lines.append(f"  {name}: {wrong[:4]}")
        return "\n".join(lines)


def _code_pairs(text: str) -> list[tuple[str, str]]:
    """Adjacent line pairs of a text where one line is indented: code, line breaks and all."""
    lines = text.splitlines()
    return [
        (a, b) for a, b in zip(lines, lines[1:], strict=False) if a[:1].isspace() or b[:1].isspace()
    ]


def _expected(g: dict, name: str):
    if name == "title":
        return " ".join(loose(g["title"]).split())
    if name == "authors":
        return [g["author"]] if g.get("author") else []
    if name == "published":
        return datetime.fromisoformat(g["published"]) if g.get("published") else None
    return sorted(g[name])


def _actual(r, name: str):
    if name == "title":
        return " ".join(loose(r.title).split())
    if name == "authors":
        return list(r.authors)
    if name == "published":
        return r.published
    return sorted(getattr(r, name))


def _applies(g: dict, name: str) -> bool:
    """Fields scored: titles where shown, authors of posts where shown, the rest on posts (the
    truth holds `[]` for terms a page does not show: a site-wide keyword list is no tag)."""
    if name == "title":
        return g["shown"]["title"]
    if name == "authors":
        return g["type"] == "post" and g["shown"]["author"]
    return g["type"] == "post"


def score_records(records: list, truth: list[dict]) -> Score:
    score = Score(records=len(records))
    urls = [r.url for r in records]
    score.duplicates = sorted({u for u in urls if urls.count(u) > 1})
    got = {r.url: r for r in records}
    expected = {g["url"]: g for g in truth}
    score.missing = sorted(set(expected) - set(got))
    score.extra = sorted(set(got) - set(expected))
    pairs = []
    for url, g in expected.items():
        r = got.get(url)
        pairs.append((g["body_text"], r.text if r else ""))
        if r is None:
            continue
        if r.kind != g["type"] or r.canonical_url != r.url:
            score.wrong_kind.append(f"{url} {r.kind} canonical={r.canonical_url}")
        text_lines = [line for line in r.text.splitlines() if line.strip()]
        text_pairs = set(zip(text_lines, text_lines[1:], strict=False))
        if any(p not in text_pairs for p in _code_pairs(g["body_text"])):
            score.code_wrong.append(url)
        if g.get("js_comments") and g["type"] == "post":
            if r.comments_status != "not_captured" or r.comments_system != g["js_comments"]:
                score.comments_wrong.append(f"{url} {r.comments_status} {r.comments_system}")
        elif not g.get("js_comments"):
            want = [
                (str(c["id"]), str(c["parent"]) if c["parent"] else None, loose(c["author"]),
                 c["type"], c["text"].split(), datetime.fromisoformat(c["date"]))
                for c in g["comments"]
            ]  # fmt: skip
            have = [
                (c.id, c.parent_id, loose(c.author), c.type, c.text.split(), c.published)
                for c in r.comments
            ]
            if want != have:
                score.comments_wrong.append(url)
    score.body_f1 = score_corpus(pairs).f1
    for name in FIELDS:
        rows = [g for g in truth if _applies(g, name)]
        wrong = []
        for g in rows:
            r = got.get(g["url"])
            if r is None or _actual(r, name) != _expected(g, name):
                wrong.append(f"{g['url']}: {r and _actual(r, name)!r} != {_expected(g, name)!r}")
        score.field_ok[name] = 1 - len(wrong) / len(rows) if rows else 1.0
        score.field_wrong[name] = wrong
    return score


def score_archive(archive_dir: Path, port: int) -> Score:
    from archive.store import iter_records

    return score_records(list(iter_records(archive_dir)), truth_for_port(port))


if __name__ == "__main__":
    print(score_archive(Path(sys.argv[1]), int(sys.argv[2])).summary())

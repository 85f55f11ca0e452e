"""Body extraction on the sitefarm (Jekyll minima, Hexo landscape), read from its files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from archive.scoring import score_corpus
from crawler.extract.body import extract_body
from crawler.extract.page import decode_html, parse_html

ROOT = Path(__file__).resolve().parents[2]
SITEFARM = Path(os.environ.get("SITEFARM_DIR", ROOT.parent / "shared" / "sitefarm"))


def _pages(site: str) -> list[tuple[dict, str]]:
    truth = SITEFARM / "groundtruth" / f"{site}.jsonl"
    if not truth.is_file():
        pytest.skip(f"no sitefarm ground truth at {truth}")
    out = []
    for line in truth.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        path = SITEFARM / site / unquote(urlsplit(rec["url"]).path).lstrip("/")
        if rec["url"].endswith("/"):
            path = path / "index.html"
        body = extract_body(parse_html(decode_html(path.read_bytes(), "utf-8")), rec["url"])
        out.append((rec, body.text if body else ""))
    return out


@pytest.mark.parametrize("site", ["minima", "hexo"])
def test_sitefarm_bodies(site: str) -> None:
    pages = _pages(site)
    assert len(pages) == 46
    score = score_corpus((rec["body_text"], text) for rec, text in pages)
    assert score.f1 >= 0.995, score
    for rec, text in pages:  # section headings at the start of a body stay
        first = rec["body_text"].split("\n")[0]
        assert text.startswith(first), (rec["slug"], first, text[:80])
        assert rec["title"] not in text.split("\n\n")[:1], rec["slug"]

"""Never crash on HTML lxml can parse: real bench pages, truncated and salted with comments,
processing instructions and broken URLs (a seeded random loop: reproducible, no hypothesis)."""

from __future__ import annotations

import contextlib
import gzip
import os
import random
from pathlib import Path

import pytest

from archive.extract_commands import extract_record
from crawler.extract.page import PageError, analyse_page

_DEFAULT_BENCH = Path(__file__).resolve().parents[3] / "shared" / "bench"
BENCH = Path(os.environ.get("BENCH_DIR", _DEFAULT_BENCH))  # the bench, or one corpus of it
CORPORA = ("scrapinghub", "dragnet", "readability", "cleaneval-dev")
ROUNDS = 40  # mutated pages per corpus

SALT = [
    "<!-- c -->",
    "<!---->",
    "<?php echo 1 ?>",
    "<?xml-stylesheet href='x'?>",
    "<![CDATA[x]]>",
    "<!DOCTYPE html>",
    '<a href="http://[ccpa-preferences]/">x</a>',
    '<link rel="canonical" href="https://[::1">',
    '<base href="http://[bad]/">',
    '<a href="//[x]:99999/">y</a>',
    '<img src="http://[img]/a.png">',
    '<meta property="og:url" content="http://[ccpa-preferences]">',
    '<meta property="og:image" content="http://[ccpa-preferences]/i.png">',
    '<link rel="alternate" type="application/rss+xml" href="http://[feed]/">',
    "<h1><!-- t --></h1>",
    "<article><!-- a --></article>",
    '<div class="entry-content"><!-- only --><?pi x?></div>',
    "</html>",
    "<body>",
    "</div></div>",
    "<script>",
]


def _pages(corpus: str) -> list[str]:
    folder = next(
        (d / corpus / "html" for d in (BENCH, BENCH.parent) if (d / corpus / "html").is_dir()),
        BENCH / corpus / "html",
    )
    if not folder.is_dir():
        pytest.skip(f"no benchmark pages in {folder}")
    files = sorted(folder.glob("*.html.gz"))[:6]
    return [gzip.decompress(f.read_bytes()).decode("utf-8", "replace") for f in files]


def _mutate(html: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        return html[: rng.randrange(1, len(html) + 1)]
    for _ in range(rng.randrange(1, 12)):
        pos = rng.randrange(len(html) + 1)
        if rng.random() < 0.8:  # at a tag boundary, where comments and PIs end up in the tree
            end = html.find(">", pos)
            pos = end + 1 if end >= 0 else pos
        html = html[:pos] + rng.choice(SALT) + html[pos:]
    return rng.choice(SALT) + html if rng.random() < 0.3 else html


@pytest.mark.parametrize("corpus", CORPORA)
def test_mutated_pages_never_crash(corpus: str) -> None:
    rng = random.Random(f"fuzz-{corpus}")
    pages = _pages(corpus)
    for _ in range(ROUNDS):
        html = _mutate(rng.choice(pages), rng).encode("utf-8")
        url = rng.choice(["", "https://blog.example/post/", "http://[ccpa-preferences]/x"])
        with contextlib.suppress(PageError):  # not a usable document: a refusal, not a crash
            analyse_page(html, url, block_samples=rng.random() < 0.5)
        record = extract_record(html, url, "utf-8")
        error = record.get("error", "")
        assert not error or not error.split(":")[0].endswith(("Error", "Exception")), error


@pytest.mark.parametrize(
    "html",
    [
        "<!-- only a comment --><p>One paragraph of text that is the whole post here.</p>",
        "<html><head><title><!-- x --></title></head><body><h1><!-- y --></h1>"
        "<div class='entry-content'><!-- z --><p>A post body with a comment inside.</p>"
        "<?pi here?></div></body></html>",
        "<html><body><a href='http://[ccpa-preferences]/'>Privacy</a><article>"
        "<p>Text of the article, long enough to count as a body.</p></article></body></html>",
    ],
)
def test_odd_nodes_and_broken_urls_give_a_record(html: str) -> None:
    record = extract_record(html.encode(), "http://[ccpa-preferences]/", "utf-8")
    assert "error" not in record or "Error" not in record["error"], record
    record = extract_record(html.encode(), "", "utf-8")
    assert "error" not in record, record
    assert record["text"]


def test_a_page_that_opens_html_twice_is_one_document() -> None:
    """libxml2 leaves a second `<html>` beside the root; its content (comments here) belongs to
    the page, and XPaths over the document must not see elements the root does not hold."""
    second = "".join(
        f'<li id="comment-{i}" class="comment"><div class="comment-author">Leser {i}</div>'
        f'<div class="comment-content"><p>Kommentar Nummer {i} zum Beitrag.</p></div></li>'
        for i in (1, 2)
    )
    page = (
        "<html><head><title>Ein Beitrag</title></head><body><article><h1>Ein Beitrag</h1>"
        + "<p>Der erste Absatz des Beitrags hat genug Wörter, um ein Absatz zu sein.</p>" * 3
        + "</article></body></html>"
        + f'<html><body><ol class="comment-list">{second}</ol></body></html>'
    )
    analysis = analyse_page(page.encode(), "https://blog.example/2024/01/ein-beitrag/")
    assert analysis.record is not None
    assert "Kommentar Nummer" not in analysis.record.text

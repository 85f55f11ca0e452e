"""Issue 12, case 9: honest reasons for every skipped page, and text free of control bytes."""

from __future__ import annotations

import gzip
import json

import pytest

from archive.store import iter_records
from tests.conftest import crawl_stats, run_crawl
from tests.httpserver import Route, SiteServer
from tests.unit.hostile import HTML, article, sitemap, text

PATHS = {
    "utf16": "/2024/01/utf16/",
    "utf16be": "/2024/01/utf16-be/",
    "truncated": "/2024/01/truncated/",
    "chunked_huge": "/2024/01/chunked-huge/",
    "gzip_huge": "/2024/01/gzip-huge/",
    "jsonld": "/2024/01/jsonld/",
    "control": "/2024/01/control/",
}
CONTROL = "Ein Satz mit\x00 NUL und \x1b[31mFarbe\x1b[0m und \x07Klingel und \x9b2J CSI."


def routes() -> dict[str, Route]:
    big_jsonld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "BlogPosting",
            "headline": "Mit viel JSON-LD",
            "articleBody": "x" * (10 * 2**20),
        }
    )
    full = gzip.compress(article("Abgeschnitten", text(3)).encode())
    return {
        "/robots.txt": Route(200, b"Sitemap: {base}/sitemap.xml\n", {"Content-Type": "text/plain"}),
        "/sitemap.xml": Route(
            200, sitemap("{base}", list(PATHS.values())), {"Content-Type": "text/xml"}
        ),
        "/": Route(200, b"<html><body class='home blog'><h1>Blog</h1></body></html>", HTML),
        PATHS["utf16"]: Route(  # the header even says UTF-8
            200, article("Sechzehn", text(1)).encode("utf-16-le"), HTML
        ),
        PATHS["utf16be"]: Route(
            200, article("Big Endian", text(9)).encode("utf-16-be"), {"Content-Type": "text/html"}
        ),
        PATHS["truncated"]: Route(
            200,
            full[: len(full) // 2],
            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
        ),
        PATHS["chunked_huge"]: Route(
            200, article("Riesig", ["Wort " * 2_700_000]).encode(), HTML, length=False
        ),
        PATHS["gzip_huge"]: Route(
            200,
            gzip.compress(article("Bombe", ["Wort " * 2_700_000]).encode()),
            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
        ),
        PATHS["jsonld"]: Route(
            200,
            article(
                "Mit viel JSON-LD",
                text(2),
                extra_head=f"<script type='application/ld+json'>{big_jsonld}</script>",
            ).encode(),
            HTML,
        ),
        PATHS["control"]: Route(200, article("Steuerzeichen", [*text(4), CONTROL]).encode(), HTML),
    }


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    archive_dir = tmp_path_factory.mktemp("reasons") / "archive"
    with SiteServer(routes()) as site:
        proc = run_crawl(
            [site.url], archive_dir, "DOWNLOAD_MAXSIZE=12000000", "EXTRACT_WORKERS=1", timeout=120
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return site, archive_dir, proc.log


def _url(site, name):
    return site.url.rstrip("/") + PATHS[name]


def test_utf16_without_bom_is_decoded(crawl):
    site, archive_dir, _ = crawl
    records = {r.url: r for r in iter_records(archive_dir)}
    assert records[_url(site, "utf16")].title == "Sechzehn"
    assert records[_url(site, "utf16")].text.split() == " ".join(text(1)).split()
    assert records[_url(site, "utf16be")].title == "Big Endian"


@pytest.mark.parametrize(
    "name, reason, key",
    [
        ("truncated", "truncated gzip body", "truncated_gzip"),
        ("chunked_huge", "too_large", "too_large"),
        ("gzip_huge", "too_large", "too_large"),
    ],
)
def test_skip_reason_is_named(crawl, name, reason, key):
    site, archive_dir, log = crawl
    url = _url(site, name)
    assert [line for line in log.splitlines() if f"skipped {url}: " in line and reason in line]
    assert crawl_stats(archive_dir)[f"blogarchive/skipped/{key}"] >= 1


def test_big_json_ld_does_not_turn_a_post_into_a_listing(crawl):
    site, archive_dir, _ = crawl
    records = {r.url: r for r in iter_records(archive_dir)}
    record = records.get(_url(site, "jsonld"))
    assert record is not None and record.kind == "post"
    assert record.title == "Mit viel JSON-LD"
    assert len(record.text) < 10_000


def test_control_bytes_are_stripped(crawl):
    site, archive_dir, _ = crawl
    record = {r.url: r for r in iter_records(archive_dir)}[_url(site, "control")]
    for field in (record.text, record.markdown, record.title):
        assert not any(ord(c) < 32 and c not in "\n\t" for c in field), repr(field)
        assert not any(0x7F <= ord(c) <= 0x9F for c in field), repr(field)
    assert "NUL und Farbe und Klingel und" in record.text
    assert "[31m" not in record.text

"""One crawl of a small local blog full of bad input: every case is logged by URL and reason,
only good records reach the archive, and the archive stays valid."""

from __future__ import annotations

import gzip

import pytest

from archive.store import iter_problems, iter_records
from tests.conftest import crawl_stats, run_crawl
from tests.httpserver import Route, SiteServer
from tests.unit.hostile import sitemap

HTML = {"Content-Type": "text/html; charset=utf-8"}


def article(title: str, paragraphs: list[str], charset_meta: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='de'><head>{charset_meta}<title>{title} - Testblog</title>"
        "</head><body class='single single-post'><header><nav><a href='{base}/'>Start</a>"
        "</nav></header><main><article class='post'><h1 class='entry-title'>"
        f"{title}</h1><div class='entry-meta'>von <span class='author vcard'><a class='url fn n' "
        "href='{base}/author/anna/'>Anna Autorin</a></span> am <time class='entry-date published' "
        "datetime='2024-01-15T10:00:00+01:00'>15. Januar 2024</time></div>"
        f"<div class='entry-content'>{body}</div></article></main>"
        "<footer><p>© Testblog</p></footer></body></html>"
    )


GOOD = [
    "Dieser Beitrag erzählt, wie wir im Januar den Garten winterfest gemacht haben.",
    "Zuerst kamen die Rosen dran, dann die Beete, am Ende der Kompost und die Regentonne.",
    "Wer das nachmachen will, braucht vor allem Geduld und ein gutes Paar Handschuhe.",
]
LATIN1 = [
    "Über die Größe der Äpfel wurde im Verein lange gestritten, süß waren sie alle.",
    "Am Ende gewann die Sorte Boskoop, weil sie sich über den Winter am besten hält.",
]


PATHS = [
    "/2024/01/good-post/",
    "/2024/01/latin1-post/",
    "/files/report.pdf",
    "/2024/01/download/",
    "/2024/01/empty/",
    "/2024/01/huge/",
    "/2024/01/broken-encoding/",
    "/2024/01/gone/",
    "/2024/01/server-error/",
    "/2024/01/loop/",
    "/2024/01/no-body/",
    "/private/secret/",
]


def routes(base: str) -> dict:
    huge = article("Riesig", ["Wort " * 100_000]).encode()
    return {
        "/robots.txt": Route(
            200,
            b"User-agent: *\nCrawl-delay: 0.3\nDisallow: /private/\n"
            b"Sitemap: {base}/sitemap-posts.xml.gz\n",
            {"Content-Type": "text/plain"},
        ),
        "/sitemap-posts.xml.gz": Route(
            200,
            gzip.compress(sitemap(base.rstrip("/"), PATHS)),
            {"Content-Type": "application/x-gzip"},
        ),
        "/sitemap.xml": Route(
            200,
            b"<?xml version='1.0'?><urlset><url><loc>{base}/2024/01/go",
            {"Content-Type": "application/xml"},
        ),
        "/": Route(
            200,
            (
                b"<html><head><link rel='alternate' type='application/rss+xml' href='{base}/feed/'>"
                b"</head><body class='home blog'><a href='{base}/2024/01/good-post/'>Gut</a>"
                b"</body></html>"
            ),
            HTML,
        ),
        "/feed/": Route(
            200, b"<rss><channel><item><title>kaputt</ti", {"Content-Type": "application/rss+xml"}
        ),
        "/2024/01/good-post/": Route(200, article("Garten im Winter", GOOD).encode(), HTML),
        "/2024/01/latin1-post/": Route(
            200, article("Äpfel", LATIN1).encode("latin-1"), {"Content-Type": "text/html"}
        ),
        "/files/report.pdf": Route(200, b"%PDF-1.4 binary", {"Content-Type": "application/pdf"}),
        "/2024/01/download/": Route(200, b"%PDF-1.4 binary", {"Content-Type": "application/pdf"}),
        "/2024/01/empty/": Route(200, b"", HTML),
        "/2024/01/huge/": Route(200, huge, HTML),
        "/2024/01/broken-encoding/": Route(200, bytes(range(128, 256)) * 200, HTML),
        "/2024/01/gone/": Route(410, b"<html><body>weg</body></html>", HTML),
        "/2024/01/server-error/": Route(500, b"<html><body>kaputt</body></html>", HTML),
        "/2024/01/loop/": Route(302, b"", {"Location": "{base}/2024/01/loop-2/"}),
        "/2024/01/loop-2/": Route(302, b"", {"Location": "{base}/2024/01/loop/"}),
        "/2024/01/no-body/": Route(
            200,
            b"<html><head><title>Leer</title></head><body class='single'>"
            b"<nav><a href='/'>Start</a></nav></body></html>",
            HTML,
        ),
        "/private/secret/": Route(200, article("Geheim", GOOD).encode(), HTML),
    }


@pytest.fixture(scope="module")
def bad_crawl(tmp_path_factory):
    archive_dir = tmp_path_factory.mktemp("bad") / "archive"
    with SiteServer({}) as site:
        site.routes = routes(site.url)
        proc = run_crawl(
            [site.url],
            archive_dir,
            "DOWNLOAD_MAXSIZE=200000",
            "RETRY_TIMES=1",
            "EXTRACT_WORKERS=1",
            timeout=300,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return site, archive_dir, proc.log


def test_only_good_posts_are_archived(bad_crawl):
    site, archive_dir, _ = bad_crawl
    records = {r.url: r for r in iter_records(archive_dir)}
    assert set(records) == {site.url + "2024/01/good-post/", site.url + "2024/01/latin1-post/"}
    good = records[site.url + "2024/01/good-post/"]
    assert good.title == "Garten im Winter"
    assert good.text.split() == " ".join(GOOD).split()
    assert "Über die Größe der Äpfel" in records[site.url + "2024/01/latin1-post/"].text
    assert list(iter_problems(archive_dir)) == []


@pytest.mark.parametrize(
    "path, reason",
    [
        ("/2024/01/download/", "not HTML (application/pdf)"),
        ("/2024/01/empty/", "empty page"),
        ("/2024/01/huge/", "too_large"),
        ("/2024/01/broken-encoding/", "broken encoding"),
        ("/2024/01/gone/", "HTTP 410"),
        ("/2024/01/server-error/", "HTTP 500"),
        ("/2024/01/loop/", "redirect loop"),
        ("/2024/01/no-body/", "no article body found"),
        ("/private/secret/", "robots.txt"),
    ],
)
def test_each_bad_page_is_logged_with_url_and_reason(bad_crawl, path, reason):
    site, _, log = bad_crawl
    url = site.url.rstrip("/") + path
    lines = [line for line in log.splitlines() if url in line and reason in line]
    assert lines, f"no log line names {url} with {reason!r}"


def test_malformed_feed_and_sitemap_are_logged(bad_crawl):
    site, archive_dir, log = bad_crawl
    assert f"malformed sitemap {site.url}sitemap.xml" in log
    assert f"malformed feed {site.url}feed/" in log
    stats = crawl_stats(archive_dir)
    assert stats["blogarchive/discovery_errors/malformed_sitemap"] == 1
    assert stats["blogarchive/discovery_errors/malformed_feed"] == 1


def test_asset_urls_are_not_fetched(bad_crawl):
    site, _, _ = bad_crawl
    assert "/files/report.pdf" not in site.requests


def test_crawl_delay_from_robots_txt_is_honoured(bad_crawl):
    site, _, log = bad_crawl
    assert "Crawl-delay 0.3s" in log
    times = [t for t, path in site.times if path.startswith("/2024/")]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) >= 5
    assert min(gaps) >= 0.25, gaps

"""Discovery end to end: small local blogs, each offering one way to find its posts."""

from __future__ import annotations

from archive.store import iter_records
from tests.conftest import crawl_stats, run_crawl
from tests.httpserver import Route, SiteServer

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
ATOM = {"Content-Type": "application/atom+xml; charset=utf-8"}


def post_page(title: str, head: str = "", extra_links: str = "") -> Route:
    text = "".join(
        f"<p>{title}: Absatz {i} mit genug Wörtern, damit es ein echter Beitrag ist.</p>"
        for i in range(4)
    )
    html = (
        f"<!DOCTYPE html><html lang='de'><head><title>{title}</title>{head}</head><body>"
        f"<nav><a href='{{base}}/'>Start</a> {extra_links}</nav><main><article>"
        f"<h1 class='entry-title'>{title}</h1><div class='entry-content'>{text}</div>"
        "</article></main></body></html>"
    )
    return Route(200, html.encode(), HTML)


def listing(links: list[str], older: str | None = None) -> Route:
    items = "".join(
        f"<article><h2 class='entry-title'><a href='{{base}}{u}'>Titel {u}</a></h2>"
        "<p>Anriss.</p></article>"
        for u in links
    )
    nav = f"<a class='next' href='{{base}}{older}'>Ältere Beiträge</a>" if older else ""
    html = f"<html><head><title>Blog</title></head><body><main>{items}</main>{nav}</body></html>"
    return Route(200, html.encode(), HTML)


def archived_paths(archive_dir, base: str) -> set[str]:
    return {r.url.removeprefix(base.rstrip("/")) for r in iter_records(archive_dir)}


def test_blog_under_a_path_without_sitemap_or_feed_is_crawled_by_links(tmp_path):
    routes = {
        "/blog/": listing(["/blog/2024/01/eins/", "/blog/2024/01/zwei/"], older="/blog/page/2/"),
        "/blog/page/2/": listing(["/blog/2024/01/drei/"]),
        "/blog/2024/01/eins/": post_page("Eins", extra_links="<a href='{base}/shop/'>Shop</a>"),
        "/blog/2024/01/zwei/": post_page(
            "Zwei", extra_links="<a href='{base}/blog/about/'>Über</a>"
        ),
        "/blog/2024/01/drei/": post_page("Drei"),
        "/blog/about/": post_page("Über uns"),
        "/shop/": post_page("Shop"),
    }
    with SiteServer(routes) as site:
        run_crawl([site.url + "blog/"], tmp_path / "a", "EXTRACT_WORKERS=0")
    paths = archived_paths(tmp_path / "a", site.url)
    assert paths == {
        "/blog/2024/01/eins/",
        "/blog/2024/01/zwei/",
        "/blog/2024/01/drei/",
        "/blog/about/",
    }
    assert "/shop/" not in site.requests, "left the blog's path prefix"


def test_paged_wordpress_feed_finds_every_post(tmp_path):
    def rss(paths: list[str]) -> Route:
        items = "".join(
            f"<item><title>T</title><link>{{base}}{p}</link>"
            "<pubDate>Mon, 15 Jan 2024 09:00:00 +0000</pubDate>"
            "<dc:creator><![CDATA[Anna]]></dc:creator></item>"
            for p in paths
        )
        xml = (
            '<?xml version="1.0"?><rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>B</title>'
            '<atom:link href="http://127.0.0.1/feed/" rel="self" type="application/rss+xml"/>'
            f"<generator>https://wordpress.org/?v=6.1.9</generator>{items}</channel></rss>"
        )
        return Route(200, xml.encode(), RSS)

    head = "<link rel='alternate' type='application/rss+xml' href='{base}/feed/'>"
    routes = {
        "/": Route(200, f"<html><head>{head}</head><body>Hallo</body></html>".encode(), HTML),
        "/feed/": rss([f"/2024/01/p{i}/" for i in range(10)]),
        "/feed/?paged=2": rss([f"/2024/01/p{i}/" for i in range(10, 13)]),
        **{f"/2024/01/p{i}/": post_page(f"Post {i}") for i in range(13)},
    }
    with SiteServer(routes) as site:
        run_crawl([site.url], tmp_path / "a", "EXTRACT_WORKERS=0")
    assert archived_paths(tmp_path / "a", site.url) == {f"/2024/01/p{i}/" for i in range(13)}
    assert "/feed/?paged=3" in site.requests  # paged on until the feed ran out (404)
    assert crawl_stats(tmp_path / "a")["blogarchive/feeds"] == 2
    records = {r.url: r for r in iter_records(tmp_path / "a")}
    assert records[site.url + "2024/01/p3/"].authors == ["Anna"]  # the feed's hint


def test_blogger_feed_paging(tmp_path):
    def atom(start: int, total: int, per_page: int) -> Route:
        entries = "".join(
            f"<entry><title>T{i}</title><link rel='alternate' type='text/html' "
            f"href='{{base}}/2024/01/b{i}.html'/><published>2024-01-15T10:00:00+01:00</published>"
            "</entry>"
            for i in range(start - 1, min(start - 1 + per_page, total))
        )
        xml = (
            "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom' "
            "xmlns:openSearch='http://a9.com/-/spec/opensearchrss/1.0/'>"
            f"<title>B</title><openSearch:totalResults>{total}</openSearch:totalResults>"
            f"<openSearch:startIndex>{start}</openSearch:startIndex>"
            f"<openSearch:itemsPerPage>{per_page}</openSearch:itemsPerPage>{entries}</feed>"
        )
        return Route(200, xml.encode(), ATOM)

    routes = {
        "/": Route(200, b"<html><body>Blogger</body></html>", HTML),
        "/feeds/posts/default": atom(1, 5, 3),
        "/feeds/posts/default?start-index=4": atom(4, 5, 3),
        **{f"/2024/01/b{i}.html": post_page(f"B {i}") for i in range(5)},
    }
    with SiteServer(routes) as site:
        run_crawl([site.url], tmp_path / "a", "EXTRACT_WORKERS=0")
    assert archived_paths(tmp_path / "a", site.url) == {f"/2024/01/b{i}.html" for i in range(5)}


def test_one_record_per_canonical_url(tmp_path):
    canonical = "<link rel='canonical' href='{base}/2024/01/original/'>"
    sitemap = (
        "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        + "".join(
            f"<url><loc>{{base}}{p}</loc></url>"
            for p in (
                "/2024/01/original/",
                "/2024/01/original/?utm_source=feed#top",
                "/2024/01/original",
                "/2024/01/copy/",
                "/?p=7",
            )
        )
        + "</urlset>"
    )
    routes = {
        "/": Route(200, b"<html><body class='home'>Start</body></html>", HTML),
        "/sitemap.xml": Route(200, sitemap.encode(), {"Content-Type": "application/xml"}),
        "/2024/01/original/": post_page("Original", head=canonical),
        "/2024/01/original": Route(301, b"", {"Location": "{base}/2024/01/original/"}),
        "/2024/01/copy/": post_page("Original", head=canonical),
        "/?p=7": Route(301, b"", {"Location": "{base}/2024/01/original/"}),
    }
    with SiteServer(routes) as site:
        run_crawl([site.url], tmp_path / "a", "EXTRACT_WORKERS=0")
    records = list(iter_records(tmp_path / "a"))
    assert [r.canonical_url for r in records] == [site.url + "2024/01/original/"]
    assert site.requests.count("/2024/01/original/") == 1


def test_feed_that_ignores_paging_is_not_paged_forever(tmp_path):
    """A server that answers every ?paged=N with page 1 (static hosting) ends the paging."""
    items = "".join(
        f"<item><title>T</title><link>{{base}}/2024/01/p{i}/</link></item>" for i in range(3)
    )
    xml = (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>B</title>{items}</channel></rss>"
    )
    rss = Route(200, xml.encode(), RSS)
    head = "<link rel='alternate' type='application/rss+xml' href='{base}/feed/'>"
    routes = {
        "/": Route(200, f"<html><head>{head}</head><body>Hallo</body></html>".encode(), HTML),
        **{f"/feed/?paged={n}": rss for n in range(2, 50)},
        "/feed/": rss,
        **{f"/2024/01/p{i}/": post_page(f"Post {i}") for i in range(3)},
    }
    with SiteServer(routes) as site:
        proc = run_crawl([site.url], tmp_path / "a", "EXTRACT_WORKERS=0")
    assert archived_paths(tmp_path / "a", site.url) == {f"/2024/01/p{i}/" for i in range(3)}
    feed_requests = sorted(p for p in site.requests if p.startswith("/feed/"))
    assert feed_requests == ["/feed/", "/feed/?paged=2", "/feed/atom/"]  # atom/: no twin here
    assert "repeats earlier items" in proc.log


def test_recrawl_sends_validators_and_counts_304(tmp_path):
    """A server with ETags: the second crawl asks If-None-Match and gets 304 for every post."""
    etags = {f"/2024/01/e{i}/": f'"v{i}"' for i in range(3)}

    def post(path: str):
        page = post_page(f"Post {path}")

        def answer(headers: dict[str, str]) -> Route:
            if headers.get("If-None-Match") == etags[path]:
                return Route(304, b"", {"ETag": etags[path]})
            return Route(200, page.body, {**HTML, "ETag": etags[path]})

        return answer

    sitemap = (
        "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        + "".join(f"<url><loc>{{base}}{p}</loc></url>" for p in etags)
        + "</urlset>"
    )
    routes = {
        "/": Route(200, b"<html><body class='home'>Start</body></html>", HTML),
        "/sitemap.xml": Route(200, sitemap.encode(), {"Content-Type": "application/xml"}),
        **{p: post(p) for p in etags},
    }
    with SiteServer(routes) as site:
        run_crawl([site.url], tmp_path / "a", "EXTRACT_WORKERS=0")
        # RECHECK_MIN_INTERVAL=0: every post is due, so only the validators can save a download
        run_crawl([site.url], tmp_path / "a", "EXTRACT_WORKERS=0", "RECHECK_MIN_INTERVAL=0",
                  log_name="second")  # fmt: skip
    stats = crawl_stats(tmp_path / "a", "second")
    assert stats["blogarchive/not_modified"] == 3
    assert stats.get("downloader/response_status_count/304") == 3
    assert len(list(iter_records(tmp_path / "a"))) == 3  # nothing new written

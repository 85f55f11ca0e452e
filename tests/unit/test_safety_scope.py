"""Issue 12, case 6: nothing off the blog is fetched or stored, after a redirect, a meta refresh,
a redirected sitemap or feed, or a post's comment-feed link; the resolved address is checked."""

from __future__ import annotations

import pytest
from twisted.internet.error import DNSLookupError

from archive.store import iter_records
from archive.warc import iter_responses
from crawler import scope
from crawler.scope import GuardedResolver, is_public_address
from tests.conftest import crawl_stats, run_crawl
from tests.httpserver import Route, SiteServer
from tests.unit.hostile import HTML, article, good_blog, text

PINGBACK = (
    "<ol class='comment-list'><li id='comment-7' class='pingback even thread-even depth-1'>"
    "<div class='comment-body'>Pingback: <a href='http://elsewhere.example/' class='url'>"
    "Anderswo</a></div></li></ol>"
)


def internal_routes() -> dict[str, Route]:
    """What an internal service (another host, a private address) would serve."""
    secret = article("Geheim", ["Interne Daten, die nie ins Archiv dürfen. " * 5]).encode()
    paths = ["/secret/", "/refresh-secret/", "/from-sitemap/", "/from-feed/"]
    routes = {p: Route(200, secret, HTML) for p in paths}
    routes["/internal-sitemap.xml"] = Route(
        200,
        (
            b"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
            b"<url><loc>{base}/from-sitemap/</loc></url></urlset>"
        ),
        {"Content-Type": "application/xml"},
    )
    routes["/feed.xml"] = Route(
        200,
        b"<rss version='2.0'><channel><title>x</title><item><title>i</title>"
        b"<link>{base}/from-feed/</link></item></channel></rss>",
        {"Content-Type": "application/rss+xml"},
    )
    return routes


@pytest.fixture(scope="module")
def scope_crawl(tmp_path_factory):
    archive_dir = tmp_path_factory.mktemp("scope") / "archive"
    with SiteServer(internal_routes()) as internal, SiteServer({}) as blog:
        other = f"http://localhost:{internal.url.rsplit(':', 1)[1].rstrip('/')}"
        routes = good_blog(3)
        routes["/robots.txt"] = Route(
            200,
            b"User-agent: *\nSitemap: {base}/sitemap.xml\nSitemap: {base}/moved-sitemap.xml\n",
            {"Content-Type": "text/plain"},
        )
        routes["/moved-sitemap.xml"] = Route(
            301, b"", {"Location": f"{other}/internal-sitemap.xml"}
        )
        routes["/"] = Route(
            200,
            b"<html><head><link rel='alternate' type='application/rss+xml' href='{base}/feed/'>"
            b"</head><body class='home blog'><a href='{base}/go/'>go</a> "
            b"<a href='{base}/refresh/'>r</a></body></html>",
            HTML,
        )
        routes["/feed/"] = Route(302, b"", {"Location": f"{other}/feed.xml"})
        routes["/go/"] = Route(302, b"", {"Location": f"{other}/secret/"})
        routes["/refresh/"] = Route(
            200,
            f"<html><head><meta http-equiv='refresh' content='0; url={other}/refresh-secret/'>"
            "</head><body>weiter</body></html>".encode(),
            HTML,
        )
        post = "/2024/01/post-0/"
        routes[post] = Route(
            200,
            article(
                "Post 0",
                text(1000),
                extra_head=(
                    f"<link rel='alternate' type='application/rss+xml' href='{other}{post}feed/'>"
                ),
                links=PINGBACK,
            ).encode(),
            HTML,
        )
        blog.routes = routes
        proc = run_crawl([blog.url], archive_dir, "EXTRACT_WORKERS=1", timeout=120)
        internal_requests = list(internal.requests)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return blog, other, archive_dir, proc.log, internal_requests


def test_nothing_off_the_blog_is_fetched(scope_crawl):
    _, _, _, _, internal_requests = scope_crawl
    assert internal_requests == []


@pytest.mark.parametrize(
    "target", ["/secret/", "/refresh-secret/", "/internal-sitemap.xml", "/feed.xml"]
)
def test_each_hop_off_the_blog_is_logged(scope_crawl, target):
    _, other, _, log, _ = scope_crawl
    lines = [
        line for line in log.splitlines() if f"{other}{target}" in line and "off the blog" in line
    ]
    assert lines, f"no log line for {other}{target}"


def test_comment_feed_off_the_blog_is_not_fetched(scope_crawl):
    blog, other, archive_dir, log, internal_requests = scope_crawl
    feed = f"{other}/2024/01/post-0/feed/"
    assert [line for line in log.splitlines() if feed in line and "off the blog" in line]
    assert "/2024/01/post-0/feed/" not in internal_requests
    records = {r.url: r for r in iter_records(archive_dir)}
    assert set(records) == {f"{blog.url}2024/01/post-{i}/" for i in range(3)}


def test_nothing_off_the_blog_is_in_the_warc(scope_crawl):
    blog, _, archive_dir, _, _ = scope_crawl
    urls = [resp.url for resp in iter_responses(archive_dir)]
    assert urls and all(u.startswith(blog.url) for u in urls), urls
    stats = crawl_stats(archive_dir)
    assert stats["blogarchive/scope/refused"] >= 5


def test_resolved_address_is_checked():
    scope.BLOG_HOSTS.clear()
    scope.BLOG_HOSTS.update({"127.0.0.1", "blog.example"})
    resolver = GuardedResolver.__new__(GuardedResolver)
    resolver.allow_private = False
    resolver.public = set()
    assert resolver.check("127.0.0.1", "127.0.0.1") == "127.0.0.1"  # the blog's own address
    assert resolver.check("93.184.216.34", "blog.example") == "93.184.216.34"
    with pytest.raises(DNSLookupError):  # rebinding: public first, private later
        resolver.check("10.0.0.5", "blog.example")
    with pytest.raises(DNSLookupError):  # not a blog's host
        resolver.check("169.254.169.254", "metadata.internal")
    resolver.allow_private = True
    assert resolver.check("10.0.0.5", "blog.example") == "10.0.0.5"
    scope.BLOG_HOSTS.clear()


@pytest.mark.parametrize(
    "address, public",
    [("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False), ("169.254.169.254", False),
     ("::1", False), ("fe80::1", False), ("::ffff:127.0.0.1", False), ("0.0.0.0", False),
     ("100.64.0.1", False), ("93.184.216.34", True), ("2606:2800:220:1::", True)],
)  # fmt: skip
def test_public_addresses(address, public):
    assert is_public_address(address) is public


def test_a_proxy_on_a_private_address_is_allowed(monkeypatch):
    scope.BLOG_HOSTS.clear()
    monkeypatch.setenv("https_proxy", "http://10.0.0.3:3128")
    resolver = GuardedResolver.__new__(GuardedResolver)
    resolver.allow_private = False
    resolver.public = set()
    assert resolver.check("10.0.0.3", "10.0.0.3") == "10.0.0.3"
    with pytest.raises(DNSLookupError):
        resolver.check("10.0.0.4", "10.0.0.4")

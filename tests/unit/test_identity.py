"""Record identity: one record per post under the URL the blog links; a declared canonical is
evidence, never a rename across spellings of one URL or a merge with another blog's post."""

from __future__ import annotations

from archive import store
from crawler.urls import record_identity, same_resource, url_key
from tests.conftest import run_crawl
from tests.httpserver import Route, SiteServer

HTML = {"Content-Type": "text/html; charset=utf-8"}


def test_index_html_is_the_directory():
    assert url_key("http://b.example/ueber-uns/index.html") == url_key(
        "http://b.example/ueber-uns/"
    )
    assert url_key("http://b.example/a/index.php") == url_key("http://b.example/a")
    assert url_key("http://b.example/index.html.bak") != url_key("http://b.example/")


def test_spellings_of_one_url_do_not_rename_a_record():
    url = "http://127.0.0.1:18105/2021/02/18/post/"
    for declared in (
        "http://127.0.0.1:18105/2021/02/18/post/index.html",
        "https://127.0.0.1:18105/2021/02/18/post/",
        "http://127.0.0.1:4000/2021/02/18/post/",
        "http://127.0.0.1:18105/2021/02/18/post",
    ):
        assert same_resource(url, declared) or declared.count(":") == 2
        assert record_identity(url, declared, "http://127.0.0.1:18105/") == url


def test_canonical_inside_the_blog_names_the_record():
    site = "https://blog.example/"
    assert (
        record_identity("https://blog.example/?p=12", "https://blog.example/2024/01/brot/", site)
        == "https://blog.example/2024/01/brot/"
    )


def test_canonical_outside_the_blog_is_information_only():
    site = "https://b.example/blog/"
    url = "https://b.example/blog/2024/kopie/"
    assert record_identity(url, "https://a.example/2024/original/", site) == url
    assert record_identity(url, "https://b.example/shop/original/", site) == url  # off the path
    assert record_identity(url, None, site) == url


def _post(title: str, text: str, head: str = "") -> Route:
    body = "".join(
        f"<p>{text} Absatz {i} mit genug Wörtern für einen Beitrag.</p>" for i in range(4)
    )
    html = (
        f"<!DOCTYPE html><html lang='de'><head><title>{title}</title>{head}"
        "<meta property='og:type' content='article'></head><body><main><article>"
        f"<h1 class='entry-title'>{title}</h1>"
        "<time datetime='2024-01-05T10:00:00+01:00'>5.1.</time>"
        f"<div class='entry-content'>{body}</div></article></main></body></html>"
    )
    return Route(200, html.encode(), HTML)


def _home(path: str) -> Route:
    html = (
        "<html><head><title>Blog</title></head><body><main><article><h2 class='entry-title'>"
        f"<a href='{{base}}{path}'>Titel</a></h2><p>Anriss.</p></article></main></body></html>"
    )
    return Route(200, html.encode(), HTML)


def test_cross_posted_canonical_never_becomes_a_version_of_the_other_blog(tmp_path):
    """Blog B republishes A's post with rel=canonical naming A's URL; both crawl into one
    ARCHIVE_DIR (one sites.txt run, then a crawl of B alone): A's post keeps A's text, B's
    page is its own record under B's URL, the canonical kept as information."""
    a_routes = {
        "/": _home("/2024/01/original/"),
        "/2024/01/original/": _post("Original", "Der Text von Blog A."),
    }
    archive = tmp_path / "archive"
    with SiteServer(a_routes) as a:
        original = a.url + "2024/01/original/"
        b_routes = {
            "/": _home("/2024/02/kopie/"),
            "/2024/02/kopie/": _post(
                "Kopie", "Die Übernahme auf Blog B.", f"<link rel='canonical' href='{original}'>"
            ),
        }
        with SiteServer(b_routes) as b:
            copy = b.url + "2024/02/kopie/"
            proc = run_crawl([a.url, b.url], archive, "EXTRACT_WORKERS=0")
            assert proc.returncode == 0, proc.stderr[-2000:]
            proc = run_crawl([b.url], archive, "EXTRACT_WORKERS=0", "RECHECK_ALL=True",
                             log_name="again")  # fmt: skip
            assert proc.returncode == 0, proc.stderr[-2000:]
    latest = store.latest(archive)
    assert latest[original].site == a.url
    assert "Der Text von Blog A." in latest[original].text
    assert latest[original].version == 1
    assert copy in latest, sorted(latest)
    assert latest[copy].site == b.url
    assert "Übernahme auf Blog B" in latest[copy].text
    assert latest[copy].declared_canonical_url == original
    for record in store.iter_posts(archive):
        if record.site == b.url:
            assert record.canonical_url == copy

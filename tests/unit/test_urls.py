"""Unit tests for crawler.urls: canonical form, dedupe key, site scope, assets, never-content."""

from __future__ import annotations

import pytest

from crawler.urls import (
    SiteScope,
    canonicalize,
    is_asset,
    is_feed_url,
    is_never_content,
    url_key,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.ORG", "http://example.org/"),
        ("http://example.org:80/a/", "http://example.org/a/"),
        ("https://example.org:443/a/", "https://example.org/a/"),
        ("http://example.org:443/a/", "http://example.org:443/a/"),  # not the default for http
        ("http://127.0.0.1:18080/2019/05/x/", "http://127.0.0.1:18080/2019/05/x/"),
        ("https://example.org/a/#comment-3", "https://example.org/a/"),
        ("https://example.org/a/?utm_source=tw&utm_medium=social", "https://example.org/a/"),
        ("https://example.org/a/?fbclid=1&gclid=2&dclid=3&msclkid=4", "https://example.org/a/"),
        ("https://example.org/a/?mc_cid=1&mc_eid=2&_ga=3&_gl=4&yclid=5", "https://example.org/a/"),
        ("https://example.org/a/?igshid=1&ref_src=twsrc", "https://example.org/a/"),
        ("https://example.org/a/?UTM_Campaign=x", "https://example.org/a/"),
        (
            "http://127.0.0.1:18080/2019/05/x/?replytocom=12#respond",
            "http://127.0.0.1:18080/2019/05/x/",
        ),
        ("https://example.org/a/?share=facebook&nb=1", "https://example.org/a/"),
        ("https://example.org/?p=42", "https://example.org/?p=42"),
        ("https://example.org/?utm_source=x&p=42&fbclid=y", "https://example.org/?p=42"),
        ("https://example.org/?paged=2&cat=3", "https://example.org/?paged=2&cat=3"),
        ("https://example.org/?s=Sauerteig", "https://example.org/?s=Sauerteig"),
        ("https://example.org/?b=2&a=1", "https://example.org/?b=2&a=1"),  # order kept
        ("https://example.org/?a=1&&b=", "https://example.org/?a=1&b="),
        ("https://example.org/caf\u00e9 au lait/", "https://example.org/caf%C3%A9%20au%20lait/"),
        ("https://example.org/%c3%a4/", "https://example.org/%C3%A4/"),
        ("https://example.org/%7Euser/%41", "https://example.org/~user/A"),
        ("https://example.org/a%2Fb", "https://example.org/a%2Fb"),  # reserved: stays encoded
        ("https://b\u00fccher.example/", "https://xn--bcher-kva.example/"),
        ("  https://example.org/a  ", "https://example.org/a"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ],
)
def test_canonicalize(url: str, expected: str) -> None:
    assert canonicalize(url) == expected


def test_canonicalize_is_idempotent() -> None:
    url = "HTTPS://WWW.Example.org:443/%c3%a4 b/?utm_term=x&p=1#top"
    once = canonicalize(url)
    assert once == "https://www.example.org/%C3%A4%20b/?p=1"
    assert canonicalize(once) == once


def test_canonicalize_keeps_non_http_urls_but_drops_fragment() -> None:
    assert canonicalize("mailto:someone@example.org") == "mailto:someone@example.org"


def test_canonicalize_rejects_invalid_port() -> None:
    with pytest.raises(ValueError):
        canonicalize("http://example.org:abc/")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.org/a/b", "https://example.org/a/b/"),
        ("https://www.example.org/a/", "https://example.org/a/"),
        ("https://WWW.example.org:443/a/#x", "https://example.org/a"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/a/?utm_source=x", "https://example.org/a"),
    ],
)
def test_url_key_equal(a: str, b: str) -> None:
    assert url_key(a) == url_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://127.0.0.1:18080/a/", "http://127.0.0.1:18081/a/"),
        ("https://example.org/?p=1", "https://example.org/?p=2"),
        ("https://example.org/a/", "https://example.org/A/"),
        ("https://blog.example.org/a/", "https://example.org/a/"),
        ("https://example.org/a/b", "https://example.org/a/bb"),
    ],
)
def test_url_key_different(a: str, b: str) -> None:
    assert url_key(a) != url_key(b)


def test_url_key_value() -> None:
    assert url_key("https://www.Example.org/2019/05/slug/?utm_source=x#c") == (
        "https://example.org/2019/05/slug"
    )
    assert url_key("https://www.example.org/") == "https://example.org/"


# --------------------------------------------------------------------------- SiteScope


def test_scope_blogfarm_port_matters() -> None:
    scope = SiteScope("http://127.0.0.1:18080/")
    assert scope.contains("http://127.0.0.1:18080/2019/05/sauerteigbrot-fuer-anfaenger/")
    assert scope.contains("http://127.0.0.1:18080")
    assert "http://127.0.0.1:18080/?p=12" in scope
    # WordPress 6.1 writes <atom:link rel="self" href="http://127.0.0.1/feed/"> (port dropped)
    assert not scope.contains("http://127.0.0.1/feed/")
    assert not scope.contains("http://127.0.0.1:18081/feed/")
    assert not scope.contains("http://127.0.0.1:18082/2019/05/sauerteigbrot-fuer-anfaenger/")
    assert not scope.contains("http://localhost:18080/")


def test_scope_host_www_insensitive_and_schemes() -> None:
    scope = SiteScope("https://example.org/")
    assert scope.contains("https://www.example.org/a/")
    assert scope.contains("HTTPS://EXAMPLE.ORG/a/")
    assert scope.contains("http://example.org/a/")  # default ports: an http link stays in scope
    assert not scope.contains("https://example.org:8443/a/")
    assert not scope.contains("https://blog.example.org/a/")
    assert not scope.contains("https://example.org.evil.com/a/")
    assert not scope.contains("ftp://example.org/a/")
    assert not scope.contains("mailto:me@example.org")
    assert not scope.contains("/relative/path")
    assert not scope.contains("http://example.org:abc/")


def test_scope_path_prefix_with_trailing_slash() -> None:
    scope = SiteScope("https://example.org/blog/")
    assert scope.prefix == "/blog/"
    assert scope.contains("https://example.org/blog/")
    assert scope.contains("https://example.org/blog")  # WordPress 301s it to /blog/
    assert scope.contains("https://example.org/blog/2019/05/post/")
    assert not scope.contains("https://example.org/blogroll/")
    assert not scope.contains("https://example.org/")
    assert not scope.contains("https://example.org/shop/blog/")


def test_scope_path_prefix_without_trailing_slash() -> None:
    scope = SiteScope("https://example.org/blog")
    assert scope.prefix == "/blog"
    assert scope.contains("https://example.org/blog")
    assert scope.contains("https://example.org/blog/a/")
    assert not scope.contains("https://example.org/blogroll")


def test_scope_start_url_with_file_uses_directory() -> None:
    scope = SiteScope("https://example.org/blog/index.php")
    assert scope.prefix == "/blog/"
    assert scope.contains("https://example.org/blog/?p=3")
    assert scope.base == "https://example.org/blog/"
    assert scope.root == "https://example.org/"


def test_scope_rejects_non_http_start() -> None:
    with pytest.raises(ValueError):
        SiteScope("ftp://example.org/")


# --------------------------------------------------------------------------- assets, never content


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:18080/wp-content/uploads/2019/05/brot-1024x768.jpg",
        "http://127.0.0.1:18080/wp-content/uploads/2019/05/",
        "http://127.0.0.1:18080/wp-includes/js/jquery/jquery.min.js?ver=3.6.1",
        "https://example.org/wp-content/themes/twentytwentyone/style.css?ver=1.7",
        "https://example.org/files/report.PDF",
        "https://example.org/a.png",
        "https://example.org/a.webp#x",
        "https://example.org/dl/archive.zip",
        "https://example.org/media/talk.mp3",
        "https://example.org/media/clip.mp4",
        "https://example.org/fonts/x.woff2",
        "https://1.bp.blogspot.com/-abc/s1600/photo",
    ],
)
def test_is_asset(url: str) -> None:
    assert is_asset(url)
    assert SiteScope("https://example.org/").is_asset(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:18080/2019/05/sauerteigbrot-fuer-anfaenger/",
        "https://example.org/2019/05/post.html",
        "https://example.org/index.php?p=3",
        "https://example.org/feed/",
        "https://example.org/wp-sitemap.xml",
        "https://example.org/about-jpg/",
    ],
)
def test_is_not_asset(url: str) -> None:
    assert not is_asset(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:18080/wp-admin/",
        "http://127.0.0.1:18080/wp-admin",
        "http://127.0.0.1:18080/wp-admin/admin-ajax.php",
        "http://127.0.0.1:18080/wp-login.php?action=lostpassword",
        "http://127.0.0.1:18080/wp-json/wp/v2/posts?per_page=100",
        "http://127.0.0.1:18080/?rest_route=/wp/v2/posts",
        "http://127.0.0.1:18080/xmlrpc.php?rsd",
        "http://127.0.0.1:18080/2019/05/post/?replytocom=7#respond",
        "http://127.0.0.1:18080/comments/feed/",
        "http://127.0.0.1:18080/2019/05/post/trackback/",
        "https://example.org/2019/05/post/?share=twitter&nb=1",
        "https://example.org/2019/05/post/embed/",
        "https://example.org/2019/05/post/embed",
        "http://127.0.0.1:18080/?s=Sauerteig",
        "http://127.0.0.1:18080/page/2/?s=Brot",
        "https://example.org/2019/05/post/#respond",
        "https://example.org/?attachment_id=15",
        "https://example.org/2019/05/post/attachment/brot/",
        "https://example.org/cdn-cgi/l/email-protection#abc",
        "mailto:info@example.org",
        "tel:+4930123456",
        "javascript:void(0)",
        "https://example.org/2019/05/post/?preview=true",
    ],
)
def test_is_never_content(url: str) -> None:
    assert is_never_content(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:18080/",
        "http://127.0.0.1:18080/2019/05/sauerteigbrot-fuer-anfaenger/",
        "http://127.0.0.1:18080/2019/05/post/#comments",
        "http://127.0.0.1:18080/?p=12",
        "http://127.0.0.1:18080/page/2/",
        "http://127.0.0.1:18080/category/kochen/",
        "http://127.0.0.1:18080/feed/",  # feeds are handled by discovery, not excluded here
        "http://127.0.0.1:18080/category/kochen/feed/",
        "https://example.org/2020/01/embedded-systems/",
        "https://example.org/2020/01/my-trackback-story/",
        "https://example.org/search-engines-explained/",
    ],
)
def test_is_not_never_content(url: str) -> None:
    assert not is_never_content(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:18080/feed/", True),
        ("http://127.0.0.1:18080/feed/atom/", True),
        ("http://127.0.0.1:18080/category/kochen/feed/", True),
        ("https://example.org/?feed=rss2", True),
        ("https://x.blogspot.com/feeds/posts/default", True),
        ("https://example.org/2019/05/feedback/", False),
    ],
)
def test_is_feed_url(url: str, expected: bool) -> None:
    assert is_feed_url(url) is expected

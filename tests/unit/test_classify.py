"""Post, page or listing: on the real WordPress pages of all three themes, and beyond WordPress."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from crawler.extract.classify import classify
from crawler.extract.types import Hints
from tests.blogfarm import THEMES, snapshot

LISTING_PATHS = re.compile(r"^/$|^/page/|^/category/|^/tag/|^/author/|^/\d{4}/(\d\d/)?$")


def recorded_html_pages():
    for (port, path), rec in sorted(snapshot().items()):
        if rec.status == 200 and rec.content_type.startswith("text/html"):
            yield port, path, rec.body


def expected_kind(path: str) -> str:
    if LISTING_PATHS.match(path):
        return "listing"
    if re.match(r"^/\d{4}/\d\d/[^/]+/$", path):
        return "post"
    return "page"


@pytest.mark.parametrize("port", sorted(THEMES))
def test_every_recorded_wordpress_page(port):
    checked = 0
    for p, path, body in recorded_html_pages():
        if p != port:
            continue
        tree = lxml_html.document_fromstring(body)
        url = f"http://127.0.0.1:{port}{path}"
        kind, signals = classify(tree, url, site_root=path == "/")
        assert kind == expected_kind(path), (path, signals)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("port", sorted(THEMES))
def test_without_wordpress_body_classes(port):
    """Strip the WordPress-only signal: URL shape, entries and link density must carry it."""
    for p, path, body in recorded_html_pages():
        if p != port or path == "/":
            continue
        tree = lxml_html.document_fromstring(body)
        tree.find("body").attrib.pop("class", None)
        kind, signals = classify(tree, f"http://127.0.0.1:{port}{path}")
        # pages too: they show no date and are no dated permalink
        assert kind == expected_kind(path), (path, signals)


def page(body: str, head: str = "") -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


ARTICLE_TEXT = "<p>" + "Ein langer Satz über das Backen von Brot im eigenen Ofen. " * 40 + "</p>"


def test_json_ld_blogposting_is_a_post_even_at_an_odd_url():
    head = (
        '<script type="application/ld+json">{"@context":"https://schema.org",'
        '"@graph":[{"@type":"BlogPosting","headline":"x"}]}</script>'
    )
    kind, signals = classify(
        page(f"<main><h1>Brot</h1>{ARTICLE_TEXT}</main>", head), "https://blog.example/read?id=17"
    )
    assert kind == "post", signals


def test_link_list_is_a_listing():
    items = "".join(f'<li><a href="/p/{i}">Beitrag Nummer {i}</a></li>' for i in range(40))
    kind, signals = classify(page(f"<main><ul>{items}</ul></main>"), "https://blog.example/alle")
    assert kind == "listing", signals


def test_teasers_make_a_listing():
    teasers = "".join(
        f'<article><h2><a href="/p/{i}">Titel {i}</a></h2><p>Kurzer Anriss {i}.</p></article>'
        for i in range(8)
    )
    kind, signals = classify(page(teasers), "https://blog.example/themen/brot")
    assert kind == "listing", signals


def test_sitemap_hint_makes_a_page():
    kind, signals = classify(
        page(f"<main><h1>Impressum</h1>{ARTICLE_TEXT}</main>"),
        "https://blog.example/impressum/",
        Hints(sitemap_kind="page"),
    )
    assert kind == "page", signals


def test_site_root_is_never_archived():
    kind, _ = classify(
        page(f"<article>{ARTICLE_TEXT}</article>"), "https://blog.example/", site_root=True
    )
    assert kind == "listing"

"""Links a page offers to the crawl: every anchor, its feeds, its canonical URL, its pagination."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from crawler.extract.safeurl import urljoin, urlsplit

_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_OLDER_TEXT = re.compile(
    r"^\W*(?:older|previous|next|more|ältere|vorherige|nächste|weitere|weiter|frühere)"
    r"(?:\s+\w+)?\W*$|^\W*(?:»|›|→|>>)\W*$",
    re.IGNORECASE,
)
_PAGE_URL = re.compile(r"/page/(\d+)/?$|[?&](?:paged|page)=(\d+)")


def base_url(tree: lxml_html.HtmlElement, url: str) -> str:
    href = tree.xpath("string(//head/base/@href)").strip()
    return (urljoin(url, href) or url) if href else url


def _absolute(base: str, href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    absolute = urljoin(base, href)
    return absolute.split("#", 1)[0] if absolute.startswith(("http://", "https://")) else None


def anchors(tree: lxml_html.HtmlElement, base: str) -> list[str]:
    seen: dict[str, None] = {}
    for href in tree.xpath("//a/@href | //area/@href"):
        absolute = _absolute(base, href)
        if absolute:
            seen.setdefault(absolute)
    return list(seen)


def feed_links(tree: lxml_html.HtmlElement, base: str) -> list[str]:
    found: dict[str, None] = {}
    for link in tree.xpath('//link[contains(concat(" ", @rel, " "), " alternate ")][@href]'):
        if (link.get("type") or "").lower().strip() in _FEED_TYPES:
            title = (link.get("title") or "").lower()
            href = _absolute(base, link.get("href"))
            if href and "comment" not in title and "/comments/" not in href:
                found.setdefault(href)
    return list(found)


_COMMENTS_WORD = re.compile(r"comment|kommentar|commentaire|comentario|reacties", re.IGNORECASE)


def site_comment_feeds(tree: lxml_html.HtmlElement, base: str) -> list[str]:
    """The blog-wide comment feeds the page advertises (newest comments first)."""
    found: dict[str, None] = {}
    for link in tree.xpath('//link[contains(concat(" ", @rel, " "), " alternate ")][@href]'):
        if (link.get("type") or "").lower().strip() not in _FEED_TYPES:
            continue
        href = _absolute(base, link.get("href"))
        if href and (
            urlsplit(href).path.rstrip("/").endswith("/comments/feed")
            or (_COMMENTS_WORD.search(link.get("title") or "") and "/comments/" in href)
        ):
            found.setdefault(href)
    return list(found)


def comment_feed_link(tree: lxml_html.HtmlElement, base: str, url: str) -> str | None:
    """The page's own comment feed: an advertised feed under the page's path (WordPress:
    `<permalink>feed/`), never the blog-wide comment feed."""
    page_path = urlsplit(url).path.rstrip("/") + "/"
    for link in tree.xpath('//link[contains(concat(" ", @rel, " "), " alternate ")][@href]'):
        if (link.get("type") or "").lower().strip() not in _FEED_TYPES:
            continue
        href = _absolute(base, link.get("href"))
        path = urlsplit(href).path if href else ""
        if href and page_path != "/" and path.startswith(page_path) and path != page_path:
            return href
    return None


def canonical_link(tree: lxml_html.HtmlElement, base: str) -> str | None:
    for href in tree.xpath('//link[contains(concat(" ", @rel, " "), " canonical ")]/@href'):
        absolute = _absolute(base, href)
        if absolute:
            return absolute
    return None


def _page_number(url: str) -> int | None:
    match = _PAGE_URL.search(urlsplit(url).path + ("?" + urlsplit(url).query))
    if not match:
        return None
    return int(match.group(1) or match.group(2))


def next_links(tree: lxml_html.HtmlElement, base: str, url: str) -> list[str]:
    """Pagination towards older entries: rel=next, "older posts" links, higher page numbers."""
    found: dict[str, None] = {}
    for href in tree.xpath('//link[contains(concat(" ", @rel, " "), " next ")]/@href'):
        if absolute := _absolute(base, href):
            found.setdefault(absolute)
    current = _page_number(url) or 1
    for anchor in tree.xpath("//a[@href]"):
        absolute = _absolute(base, anchor.get("href"))
        if not absolute or absolute == url:
            continue
        rel = (anchor.get("rel") or "").lower().split()
        classes = (anchor.get("class") or "").lower()
        text = anchor.text_content().strip()
        number = _page_number(absolute)
        if (
            "next" in rel
            or (number is not None and number > current)
            or (("next" in classes or "older" in classes) and "pagination" in classes)
            or (_OLDER_TEXT.match(text) and number is not None)
        ):
            found.setdefault(absolute)
    return list(found)


def entry_links(tree: lxml_html.HtmlElement, base: str) -> list[str]:
    """Links to the entries a listing shows: permalinks in entry titles, rel=bookmark."""
    found: dict[str, None] = {}
    for href in tree.xpath(
        "//a[contains(concat(' ', @rel, ' '), ' bookmark ')]/@href"
        " | //*[self::h1 or self::h2 or self::h3 or self::h4][ancestor::article or"
        " ancestor::*[contains(@class, 'post') or contains(@class, 'entry')]]//a/@href"
        " | //*[contains(@class, 'entry-title') or contains(@class, 'post-title')]//a/@href"
        " | //*[contains(concat(' ', @class, ' '), ' h-entry ')]"
        "//a[contains(@class, 'u-url')]/@href"
    ):
        if absolute := _absolute(base, href):
            found.setdefault(absolute)
    return list(found)

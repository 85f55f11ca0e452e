"""Discovery parsers: robots.txt, XML sitemaps, RSS/Atom feeds, and the URLs worth probing.

Every function is pure (bytes + URL in, dataclasses out; no network). Malformed input raises
:class:`DiscoveryError` with a readable reason instead of returning partial or wrong data.
XML is parsed with lxml (entities not resolved, no network); broken XML gets one repair pass
(unescaped ``&``, HTML entities) and then lxml's recover mode, keeping only complete entries.
"""

from __future__ import annotations

import html
import re
import threading
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_tz
from html.entities import name2codepoint
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree
from protego import Protego

from crawler.extract.types import Hints
from crawler.urls import SiteScope, canonicalize

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "DiscoveryError",
    "Feed",
    "FeedItem",
    "RobotsInfo",
    "Sitemap",
    "SitemapEntry",
    "feed_candidates",
    "parse_feed",
    "parse_robots",
    "parse_sitemap",
    "sitemap_candidates",
    "sitemap_kind",
    "wordpress_feed_page",
]

#: Largest body accepted after gunzip (the sitemap protocol's own limit is 50 MB).
MAX_DECOMPRESSED_BYTES = 50 * 1024 * 1024

SitemapKind = Literal["post", "page", "other"]


class DiscoveryError(ValueError):
    """A robots.txt, sitemap or feed body that cannot be used; ``reason`` says why."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass
class RobotsInfo:
    """What discovery needs from robots.txt."""

    sitemaps: list[str] = field(default_factory=list)  # absolute, in file order, no duplicates
    crawl_delay: float | None = None  # seconds, for our user agent (else the ``*`` group)


@dataclass
class SitemapEntry:
    """One ``<url>`` (urlset) or ``<sitemap>`` (index) entry."""

    loc: str
    lastmod: str | None = None  # as written (W3C datetime)


@dataclass
class Sitemap:
    """A parsed sitemap: an index of sitemaps or a set of page URLs."""

    kind: Literal["index", "urlset"]
    entries: list[SitemapEntry] = field(default_factory=list)
    recovered: bool = False  # the XML was broken and had to be repaired
    skipped: int = 0  # entries without a usable http(s) <loc>


@dataclass
class FeedItem:
    """One feed item / entry: the post URL and what the feed said about it."""

    link: str
    hints: Hints
    content_html: str | None = None  # content:encoded / description / Atom content, as HTML


@dataclass
class Feed:
    """A parsed RSS 2.0, RSS 1.0 (RDF) or Atom feed."""

    title: str | None
    items: list[FeedItem] = field(default_factory=list)
    next_url: str | None = None  # the next (older) page: Atom/RSS rel=next or OpenSearch paging
    format: Literal["rss", "rdf", "atom"] = "rss"
    recovered: bool = False  # the XML was broken and had to be repaired


# --------------------------------------------------------------------------- XML plumbing

_local = threading.local()  # lxml parsers are not thread-safe: one pair per thread


def _parser(recover: bool) -> etree.XMLParser:
    name = "recover" if recover else "strict"
    parser = getattr(_local, name, None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            recover=recover,
        )
        setattr(_local, name, parser)
    return parser


def _gunzip(body: bytes, url: str) -> bytes:
    """Decompress gzip bodies (detected by magic bytes), refusing more than the size cap."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    out = bytearray()
    data = body
    try:
        while data:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += d.decompress(data, MAX_DECOMPRESSED_BYTES + 1 - len(out))
            if len(out) > MAX_DECOMPRESSED_BYTES or d.unconsumed_tail:
                raise DiscoveryError(
                    url, f"gzip body larger than {MAX_DECOMPRESSED_BYTES // 2**20} MB unpacked"
                )
            if not d.eof:
                raise DiscoveryError(url, "truncated gzip body")
            data = d.unused_data.lstrip(b"\0")  # concatenated gzip members
            if data and not data.startswith(b"\x1f\x8b"):
                break  # trailing garbage after the last member
    except zlib.error as exc:
        raise DiscoveryError(url, f"bad gzip body: {exc}") from None
    return bytes(out)


_UTF8_BOM = b"\xef\xbb\xbf"


def _prepare(body: bytes, url: str) -> bytes:
    """Gunzip, drop a UTF-8 BOM and leading whitespace (which break the XML declaration)."""
    body = _gunzip(body, url)
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: let lxml decode it
        return body
    if body.startswith(_UTF8_BOM):
        body = body[len(_UTF8_BOM) :]
    return body.lstrip(b" \t\r\n\f\v\0")


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lower()
    head = re.sub(rb"^(?:<\?xml[^>]*>\s*|<!--.*?-->\s*)*", b"", head, flags=re.S)
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta"))


_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.S)
_BAD_AMP = re.compile(rb"&(?!(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});)")
_NAMED_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{0,31});")
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}


def _repair_chunk(chunk: bytes) -> bytes:
    def entity(m: re.Match[bytes]) -> bytes:
        name = m.group(1)
        if name in _XML_ENTITIES:
            return m.group(0)
        code = name2codepoint.get(name.decode("ascii"))
        return b"&#%d;" % code if code is not None else b"&amp;" + name + b";"

    return _NAMED_ENTITY.sub(entity, _BAD_AMP.sub(b"&amp;", chunk))


def _repair(body: bytes) -> bytes:
    """Escape stray ``&`` and turn HTML entities into character references, outside CDATA."""
    out, pos = [], 0
    for m in _CDATA.finditer(body):
        out += [_repair_chunk(body[pos : m.start()]), m.group(0)]
        pos = m.end()
    out.append(_repair_chunk(body[pos:]))
    return b"".join(out)


def _outside_cdata(body: bytes) -> bytes:
    return _CDATA.sub(b"", body)


@dataclass
class _Doc:
    root: etree._Element
    body: bytes  # the bytes actually parsed
    recovered: bool  # repaired (stray "&", HTML entities) or partial
    partial: bool  # parsed in lxml's recover mode: the tree may be cut short
    error: str | None  # the strict parser's complaint, when recovered


def _parse_xml(body: bytes, url: str, what: str) -> _Doc:
    """Parse ``body`` strictly, else repaired, else in recover mode; DiscoveryError if hopeless."""
    body = _prepare(body, url)
    if not body.strip():
        raise DiscoveryError(url, f"not a {what}: empty body")
    if _looks_like_html(body):
        raise DiscoveryError(url, f"not a {what}: HTML")
    if body.startswith((b"{", b"[")):
        raise DiscoveryError(url, f"not a {what}: JSON")
    try:
        return _Doc(etree.fromstring(body, _parser(False), base_url=url), body, False, False, None)
    except etree.XMLSyntaxError as exc:
        error = str(exc)
    repaired = _repair(body)
    try:
        root = etree.fromstring(repaired, _parser(False), base_url=url)
        return _Doc(root, repaired, True, False, error)
    except etree.XMLSyntaxError:
        pass
    try:
        root = etree.fromstring(repaired, _parser(True), base_url=url)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise DiscoveryError(url, f"malformed XML: {error}")
    return _Doc(root, repaired, True, True, error)


def _local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):  # comments, processing instructions
        return ""
    return tag.rpartition("}")[2]


def _ns(el: etree._Element) -> str | None:
    tag = el.tag
    return tag[1:].partition("}")[0] if isinstance(tag, str) and tag.startswith("{") else None


def _children(
    el: etree._Element, name: str, namespaces: frozenset[str | None]
) -> list[etree._Element]:
    return [c for c in el if _local_name(c) == name and _ns(c) in namespaces]


def _text(el: etree._Element | None) -> str:
    """All text inside ``el`` with runs of whitespace collapsed."""
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())


def _complete(doc: _Doc, nodes: list[etree._Element]) -> list[etree._Element]:
    """``nodes`` without those whose closing tag is missing from a partially parsed body."""
    if not doc.partial or not nodes:
        return nodes
    first = nodes[0]
    name = (f"{first.prefix}:" if first.prefix else "") + _local_name(first)
    pattern = rb"</" + re.escape(name.encode()) + rb"\s*>"
    return nodes[: len(re.findall(pattern, _outside_cdata(doc.body)))]


def _http_url(value: str, base: str) -> str | None:
    """``value`` resolved against ``base`` if it is an http(s) URL, else None."""
    value = re.sub(r"[\t\r\n]", "", value.strip())  # as browsers do
    if not value:
        return None
    try:
        absolute = urljoin(base, value)
        parts = urlsplit(absolute)
        _ = parts.port  # invalid ports raise ValueError
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return absolute


# --------------------------------------------------------------------------- robots.txt


def parse_robots(body: bytes, url: str, user_agent: str = "*") -> RobotsInfo:
    """Sitemap URLs and crawl delay from a robots.txt body.

    The crawl delay is the one of the group matching ``user_agent``, else the ``*`` group's.
    """
    body = _gunzip(body, url)
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    if _looks_like_html(text.lstrip().encode("utf-8", errors="replace")):
        raise DiscoveryError(url, "not a robots.txt: HTML")
    rp = Protego.parse(text)
    sitemaps: list[str] = []
    for raw in rp.sitemaps:
        loc = _http_url(raw, url)
        if loc and loc not in sitemaps:
            sitemaps.append(loc)
    delay = rp.crawl_delay(user_agent)
    if delay is None and user_agent != "*":
        delay = rp.crawl_delay("*")
    if delay is not None and (delay != delay or delay < 0):  # NaN or negative: ignore
        delay = None
    return RobotsInfo(sitemaps=sitemaps, crawl_delay=float(delay) if delay is not None else None)


# --------------------------------------------------------------------------- sitemaps

_SITEMAP_NS = frozenset(
    {
        None,
        "http://www.sitemaps.org/schemas/sitemap/0.9",
        "http://www.google.com/schemas/sitemap/0.9",
        "http://www.google.com/schemas/sitemap/0.84",
        "http://www.google.com/schemas/sitemap/0.90",
    }
)


def _text_sitemap(body: bytes, url: str) -> Sitemap:
    """A plain-text sitemap: one absolute URL per line."""
    entries = []
    for n, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        loc = _http_url(line, url) if line.lower().startswith(("http://", "https://")) else None
        if loc is None:
            raise DiscoveryError(url, f"not a sitemap: line {n} is not a URL: {line[:60]!r}")
        entries.append(SitemapEntry(loc))
    if not entries:
        raise DiscoveryError(url, "not a sitemap: empty body")
    return Sitemap("urlset", entries)


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """Parse a sitemap index or urlset (XML, gzipped XML, or plain text), or an RSS/Atom feed
    used as a sitemap.
    """
    prepared = _prepare(body, url)
    if prepared[:1] not in (b"<", b"\xff", b"\xfe", b"", b"{", b"["):
        return _text_sitemap(prepared, url)
    doc = _parse_xml(prepared, url, "sitemap")
    root_name = _local_name(doc.root)
    if root_name in ("rss", "RDF", "feed"):
        feed = _parse_feed_doc(doc, url)
        return Sitemap(
            "urlset",
            [SitemapEntry(i.link, i.hints.updated or i.hints.published) for i in feed.items],
            recovered=feed.recovered,
        )
    if root_name == "html":
        raise DiscoveryError(url, "not a sitemap: HTML")
    if root_name not in ("urlset", "sitemapindex") or _ns(doc.root) not in _SITEMAP_NS:
        if doc.partial:
            raise DiscoveryError(url, f"malformed XML: {doc.error}")
        raise DiscoveryError(url, f"not a sitemap: root element <{root_name}>")
    kind: Literal["index", "urlset"] = "index" if root_name == "sitemapindex" else "urlset"
    child = "sitemap" if kind == "index" else "url"
    nodes = _complete(doc, _children(doc.root, child, _SITEMAP_NS))
    base = doc.root.base or url
    sitemap = Sitemap(kind, recovered=doc.recovered)
    seen: set[str] = set()
    for node in nodes:
        locs = _children(node, "loc", _SITEMAP_NS)
        loc = _http_url(_text(locs[0]), base) if locs else None
        if loc is None:
            sitemap.skipped += 1
            continue
        if loc in seen:
            continue
        seen.add(loc)
        mods = _children(node, "lastmod", _SITEMAP_NS)
        sitemap.entries.append(SitemapEntry(loc, (_text(mods[0]) or None) if mods else None))
    if doc.partial and not sitemap.entries:
        raise DiscoveryError(url, f"malformed XML: {doc.error}")
    if not sitemap.entries and sitemap.skipped:
        raise DiscoveryError(url, f"not a sitemap: none of {sitemap.skipped} entries has a URL")
    return sitemap


_WP_CORE = re.compile(r"^wp-sitemap-(?:posts-(?P<type>[\w-]+?)|taxonomies-[\w-]+|users)-\d+\.xml$")
_YOAST = re.compile(r"^(?P<type>[\w-]+?)-sitemap\d*\.xml$")  # also Rank Math, AIOSEO, SEOPress
_GXS = re.compile(r"^sitemap-(?:pt-(?P<type>[\w-]+?)-|tax-|misc|archives|authors|externals)")
#: Sitemap types that list archives, users or media, never posts.
_OTHER_TYPES = frozenset(
    {"category", "categories", "post_tag", "tag", "tags", "author", "authors", "user", "users",
     "attachment", "attachments", "post_format", "format", "taxonomy", "taxonomies", "image",
     "video", "product_cat", "product_tag", "local", "locations"}
)  # fmt: skip


def _kind_of_type(post_type: str | None) -> SitemapKind | None:
    if post_type == "post":
        return "post"
    if post_type == "page":
        return "page"
    return "other" if post_type in _OTHER_TYPES else None


def sitemap_kind(url: str) -> SitemapKind | None:
    """Which WordPress (core, Yoast, Rank Math, Google XML Sitemaps) or Blogger sitemap this is.

    ``"post"``/``"page"`` for the post and page sitemaps, ``"other"`` for taxonomies, users and
    attachments; None for indexes, custom post types and sitemaps of unknown content.
    """
    parts = urlsplit(url.strip())
    name = parts.path.rstrip("/").rsplit("/", 1)[-1].lower().removesuffix(".gz")
    if name == "wp-sitemap.xml" or not name.endswith(".xml"):
        query = dict(parse_qsl(parts.query))
        if query.get("sitemap") == "posts":  # core sitemaps without pretty permalinks
            return _kind_of_type(query.get("sitemap-subtype"))
        if query.get("sitemap") in ("taxonomies", "users"):
            return "other"
        return None
    if m := _WP_CORE.match(name):
        return _kind_of_type(m.group("type")) if m.group("type") else "other"
    if m := _GXS.match(name):
        return _kind_of_type(m.group("type")) if m.group("type") else "other"
    if name == "sitemap-pages.xml":  # Blogger
        return "page"
    if m := _YOAST.match(name):
        return _kind_of_type(m.group("type"))
    return None


# --------------------------------------------------------------------------- feeds

_ATOM_NS = frozenset({"http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"})
_RSS_NS = frozenset(
    {None, "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/",
     "http://backend.userland.com/rss2", "http://blogs.law.harvard.edu/tech/rss"}
)  # fmt: skip
_CONTENT_NS = frozenset({"http://purl.org/rss/1.0/modules/content/"})
_DC = frozenset({"http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/"})
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_FEEDBURNER = frozenset({"http://rssnamespace.org/feedburner/ext/1.0"})
_OPENSEARCH = frozenset(
    {"http://a9.com/-/spec/opensearchrss/1.0/", "http://a9.com/-/spec/opensearch/1.1/"}
)
_ANY_ATOM = _ATOM_NS | {None}  # also accept un-namespaced Atom-like feeds

_TZ_NAMES = {"CET": 1, "MEZ": 1, "CEST": 2, "MESZ": 2, "BST": 1, "EET": 2, "EEST": 3,
             "WET": 0, "WEST": 1, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11}  # fmt: skip
_RFC822_ZONES = frozenset(
    {"UT", "UTC", "GMT", "Z", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"}
)
_W3C_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?$"
)


def _iso_date(value: str) -> str | None:
    """An RFC 822 or W3C/RFC 3339 date as ISO 8601 (with offset when the source has one)."""
    value = " ".join(value.split())
    if not value:
        return None
    if m := _W3C_DATE.match(value):
        y, mo, d, hh, mm, ss, frac, tz = m.groups()
        try:
            if hh is None:
                return datetime(int(y), int(mo), int(d)).date().isoformat()
            micro = int((frac or "0")[:6].ljust(6, "0"))
            dt = datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss or 0), micro)
        except ValueError:
            return None
        if tz:
            if tz.upper() in ("Z", "UTC", "GMT"):
                dt = dt.replace(tzinfo=timezone.utc)
            else:
                sign = -1 if tz[0] == "-" else 1
                digits = tz[1:].replace(":", "")
                delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                dt = dt.replace(tzinfo=timezone(sign * delta))
        return dt.isoformat()
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    try:
        dt = datetime(*parsed[:6])
    except ValueError:
        return None
    # parsedate_tz() says 0 for unknown zone names too: only trust the zones it knows
    zone = value.rsplit(" ", 1)[-1].upper() if " " in value else ""
    offset: int | None = None
    if zone in _TZ_NAMES:
        offset = _TZ_NAMES[zone] * 3600
    elif re.fullmatch(r"[+-]\d{4}", zone) or zone in _RFC822_ZONES:
        offset = parsed[9] or 0  # "-0000" is UTC with unknown local time
    if offset is not None:
        dt = dt.replace(tzinfo=timezone(timedelta(seconds=offset)))
    return dt.isoformat()


def _first_date(*elements: etree._Element | None) -> str | None:
    """The first of ``elements`` holding a parseable date, as ISO 8601."""
    for el in elements:
        if el is not None and (value := _iso_date(_text(el))):
            return value
    return None


def _plain(el: etree._Element | None, is_html: bool) -> str | None:
    """Text of a title-like element; HTML markup and entities removed when it holds HTML."""
    if el is None:
        return None
    text = _text(el)
    if is_html:
        text = " ".join(html.unescape(re.sub(r"</?[A-Za-z][^>]*>", "", text)).split())
    return text or None


def _first(
    el: etree._Element, name: str, namespaces: frozenset[str | None]
) -> etree._Element | None:
    found = _children(el, name, namespaces)
    return found[0] if found else None


def _add_unique(values: list[str], value: str | None) -> None:
    value = " ".join((value or "").split())
    if value and value not in values:
        values.append(value)


def _rss_author(value: str) -> str:
    """``lena@example.org (Lena Schmidt)`` -> ``Lena Schmidt``; a plain name stays."""
    value = " ".join(value.split())
    if m := re.match(r"^\S+@\S+\s*\((.+)\)$", value):
        return m.group(1).strip()
    return value


def _atom_links(el: etree._Element, base_default: str) -> list[tuple[str, str, str]]:
    """``(rel, type, absolute href)`` of the Atom ``<link>`` children of ``el``."""
    out = []
    for link in _children(el, "link", _ANY_ATOM):  # RSS's own <link> has no href
        href = link.get("href")
        if href is None:
            continue
        absolute = _http_url(href, link.base or base_default)
        if absolute:
            out.append(((link.get("rel") or "alternate").strip().lower(),
                        (link.get("type") or "").lower(), absolute))  # fmt: skip
    return out


def _rss_item(item: etree._Element, url: str) -> FeedItem | None:
    base = item.base or url
    link = None
    for candidate in (
        _first(item, "origLink", _FEEDBURNER),
        _first(item, "link", _RSS_NS),
    ):
        if candidate is not None and (link := _http_url(_text(candidate), base)):
            break
    if link is None:
        for rel, _type, href in _atom_links(item, base):
            if rel == "alternate":
                link = href
                break
    if link is None:
        guid = _first(item, "guid", _RSS_NS)
        if guid is not None and (guid.get("isPermaLink") or "true").strip().lower() != "false":
            link = _http_url(_text(guid), base)
    if link is None and item.get(f"{{{_RDF}}}about"):
        link = _http_url(item.get(f"{{{_RDF}}}about", ""), base)
    if link is None:
        return None
    hints = Hints(in_feed=True)
    hints.title = _plain(_first(item, "title", _RSS_NS), is_html=True)
    for creator in _children(item, "creator", _DC):
        _add_unique(hints.authors, _text(creator))
    for author in _children(item, "author", _RSS_NS):
        _add_unique(hints.authors, _rss_author(_text(author)))
    hints.published = _first_date(
        _first(item, "pubDate", _RSS_NS), _first(item, "date", _DC),
        _first(item, "published", _ATOM_NS),
    )  # fmt: skip
    hints.updated = _first_date(_first(item, "updated", _ATOM_NS), _first(item, "modified", _DC))
    for cat in _children(item, "category", _RSS_NS) + _children(item, "subject", _DC):
        _add_unique(hints.categories, _text(cat))
    content = _first(item, "encoded", _CONTENT_NS)
    if content is None:
        content = _first(item, "description", _RSS_NS)
    return FeedItem(link, hints, _text(content) or None)


def _atom_entry(entry: etree._Element, url: str) -> FeedItem | None:
    base = entry.base or url
    alternates = [(t, h) for rel, t, h in _atom_links(entry, base) if rel == "alternate"]
    if not alternates:
        return None
    html_links = [h for t, h in alternates if t in ("text/html", "application/xhtml+xml")]
    link = html_links[0] if html_links else alternates[0][1]
    hints = Hints(in_feed=True)
    title = _first(entry, "title", _ANY_ATOM)
    if title is not None:
        kind = (title.get("type") or "text").lower()
        hints.title = _plain(title, is_html=kind in ("html", "text/html", "xhtml"))
    for author in _children(entry, "author", _ANY_ATOM):
        _add_unique(hints.authors, _text(_first(author, "name", _ANY_ATOM)))
    for creator in _children(entry, "creator", _DC):
        _add_unique(hints.authors, _text(creator))
    hints.published = _first_date(
        *(_first(entry, name, _ANY_ATOM) for name in ("published", "issued", "created"))
    )
    hints.updated = _first_date(
        *(_first(entry, name, _ANY_ATOM) for name in ("updated", "modified"))
    )
    for cat in _children(entry, "category", _ANY_ATOM):
        _add_unique(hints.categories, cat.get("term") or cat.get("label"))
    content = _first(entry, "content", _ANY_ATOM)
    if content is None:
        content = _first(entry, "summary", _ANY_ATOM)
    content_html = None
    if content is not None:
        if (content.get("type") or "text").lower() == "xhtml":
            content_html = "".join(etree.tostring(c, encoding="unicode") for c in content)
        else:
            content_html = _text(content) or None
    return FeedItem(link, hints, content_html)


def _set_query(url: str, **params: str | None) -> str:
    """``url`` with query parameters set (None removes), other parameters kept in order."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    out, done = [], set()
    for key, value in pairs:
        if key in params:
            if key not in done and params[key] is not None:
                out.append((key, params[key]))
            done.add(key)
        else:
            out.append((key, value))
    out += [(k, v) for k, v in params.items() if k not in done and v is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(out), ""))


def _opensearch_next(container: etree._Element, url: str, count: int) -> str | None:
    """Next page from OpenSearch ``totalResults``/``startIndex``/``itemsPerPage`` (Blogger)."""
    values = {}
    for name in ("totalResults", "startIndex", "itemsPerPage"):
        el = _first(container, name, _OPENSEARCH)
        try:
            values[name] = int(_text(el)) if el is not None else None
        except ValueError:
            values[name] = None
    total, start, per_page = values["totalResults"], values["startIndex"], values["itemsPerPage"]
    if total is None or count == 0:
        return None
    start = start or 1
    per_page = per_page or count
    next_start = start + per_page
    if next_start > total:
        return None
    return _set_query(url, **{"start-index": str(next_start)})


def _usable_next(candidate: str | None, url: str) -> str | None:
    if candidate is None:
        return None
    try:
        if canonicalize(candidate) == canonicalize(url):  # a feed pointing at itself
            return None
    except ValueError:
        return None
    return candidate


def _parse_feed_doc(doc: _Doc, url: str) -> Feed:
    root = doc.root
    name = _local_name(root)
    items: list[FeedItem] = []
    seen: set[str] = set()
    next_url = None
    if name == "feed" and _ns(root) in _ANY_ATOM:
        fmt: Literal["rss", "rdf", "atom"] = "atom"
        container = root
        nodes = _children(root, "entry", _ANY_ATOM)
        title = _first(root, "title", _ANY_ATOM)
        is_html = title is not None and (title.get("type") or "") in ("html", "xhtml")
        title_text = _plain(title, is_html)
        parse_one = _atom_entry
    elif name in ("rss", "RDF"):
        fmt = "rss" if name == "rss" else "rdf"
        channel = _first(root, "channel", _RSS_NS)
        if channel is None and doc.partial:
            raise DiscoveryError(url, f"malformed XML: {doc.error}")
        if channel is None:
            raise DiscoveryError(url, f"not a feed: <{name}> without <channel>")
        container = channel
        # RSS 2.0 items live in <channel>; RSS 1.0 (and some 0.9x) items next to it
        nodes = _children(channel, "item", _RSS_NS) + _children(root, "item", _RSS_NS)
        title_text = _plain(_first(channel, "title", _RSS_NS), is_html=True)
        parse_one = _rss_item
    elif name == "html":
        raise DiscoveryError(url, "not a feed: HTML")
    elif doc.partial:
        raise DiscoveryError(url, f"malformed XML: {doc.error}")
    else:
        raise DiscoveryError(url, f"not a feed: root element <{name}>")
    nodes = _complete(doc, nodes)
    for node in nodes:
        item = parse_one(node, url)
        if item is not None and item.link not in seen:
            seen.add(item.link)
            items.append(item)
    # rel=next (RFC 5005, Blogger, atom:link inside RSS); rel=self is never an item or a page
    for rel, _type, href in _atom_links(container, container.base or url):
        if rel == "next" and (next_url := _usable_next(href, url)):
            break
    if next_url is None:
        next_url = _usable_next(_opensearch_next(container, url, len(nodes)), url)
    if doc.partial and not items:
        raise DiscoveryError(url, f"malformed XML: {doc.error}")
    return Feed(title_text, items, next_url, fmt, doc.recovered)


def parse_feed(body: bytes, url: str) -> Feed:
    """Parse an RSS 2.0, RSS 1.0/RDF or Atom feed (Blogger included); items without a link are
    skipped, an empty feed is valid. Raises DiscoveryError for HTML, JSON or hopeless XML.
    """
    return _parse_feed_doc(_parse_xml(body, url, "feed"), url)


def atom_twin(feed_url: str, feed: Feed) -> str | None:
    """The Atom version of an RSS feed whose items carry no update dates, where the layout
    names one (WordPress: `<feed>/atom/`); Atom's `<updated>` tells a re-crawl what changed."""
    if feed.format == "atom" or not feed.items or any(i.hints.updated for i in feed.items):
        return None
    parts = urlsplit(feed_url)
    if parts.query or not parts.path.endswith("/feed/"):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path + "atom/", "", ""))


def wordpress_feed_page(feed_url: str, page: int) -> str:
    """The WordPress feed URL of page ``page`` (``/feed/?paged=2``); page 1 has no ``paged``."""
    if page < 1:
        raise ValueError(f"page must be >= 1, not {page}")
    return _set_query(feed_url, paged=str(page) if page > 1 else None)


# --------------------------------------------------------------------------- candidates

_FEED_PATHS = ("feed/", "feed/atom/", "rss.xml", "atom.xml", "feed.xml", "index.xml",
               "feeds/posts/default", "rss/", "?feed=rss2")  # fmt: skip
_SITEMAP_PATHS = ("wp-sitemap.xml", "sitemap.xml", "sitemap_index.xml")


def feed_candidates(site_url: str) -> list[str]:
    """Feed URLs to probe when a blog advertises none, under the blog's path prefix."""
    base = SiteScope(site_url).base
    return [urljoin(base, path) for path in _FEED_PATHS]


def sitemap_candidates(site_url: str) -> list[str]:
    """Sitemap URLs to probe: under the blog's path prefix first, then under the site root."""
    scope = SiteScope(site_url)
    out: list[str] = []
    for base in (scope.base, scope.root):
        for path in _SITEMAP_PATHS:
            if (candidate := urljoin(base, path)) not in out:
                out.append(candidate)
    return out

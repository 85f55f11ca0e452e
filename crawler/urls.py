"""URL rules: canonical form, dedupe key, site scope and the URLs a blog crawl never fetches.

All functions are pure string functions (no network, no Scrapy objects).
"""

from __future__ import annotations

import functools
import posixpath
import re
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from w3lib.url import safe_url_string

__all__ = [
    "TRACKING_PARAMS",
    "SiteScope",
    "canonicalize",
    "directory_url",
    "record_identity",
    "same_resource",
    "is_asset",
    "is_feed_url",
    "is_never_content",
    "url_key",
]

DEFAULT_PORTS = {"http": 80, "https": 443}

#: Query parameters that never change which document a URL names (lower-case names).
TRACKING_PARAMS = frozenset(
    {
        # ad / analytics click ids
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "igshid", "twclid", "ttclid", "li_fat_id", "epik", "srsltid",
        "_ga", "_gl", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking",
        "mc_cid", "mc_eid", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv",
        "wickedid", "rb_clickid", "s_cid", "cmpid", "ref_src", "ref_url",
        # WordPress / Jetpack: comment-reply and share buttons point at the post itself
        "replytocom", "share", "nb", "like_comment", "_wpnonce",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")

_UNRESERVED_ESCAPE = re.compile(r"%(2[DdEe]|3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|5[Ff]|7[Ee])")
_ANY_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def _is_tracking(name: str) -> bool:
    name = unquote(name).strip().lower()
    return name in TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES)


def _normalise_escapes(part: str) -> str:
    """Decode escapes of unreserved characters (``%7E`` -> ``~``), upper-case the others."""
    part = _UNRESERVED_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), part)
    return _ANY_ESCAPE.sub(lambda m: m.group(0).upper(), part)


def _host_port(parts: SplitResult) -> tuple[str, int | None]:
    """Lower-case host (IPv6 in brackets, no trailing dot) and explicit non-default port.

    Raises ValueError for an invalid port.
    """
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port  # ValueError for "host:abc" / out-of-range ports
    if port is not None and DEFAULT_PORTS.get(parts.scheme.lower()) == port:
        port = None
    return host, port


def _split_query(query: str) -> list[tuple[str, str]]:
    """``a=1&b`` -> ``[("a", "a=1"), ("b", "b")]`` keeping each raw pair (no re-encoding)."""
    out = []
    for pair in query.split("&"):
        if pair:
            out.append((pair.split("=", 1)[0], pair))
    return out


@functools.lru_cache(maxsize=65536)
def canonicalize(url: str) -> str:
    """Canonical form of an absolute URL, for storing and comparing.

    Lower-cases scheme and host, drops the default port (keeps others), the fragment and
    tracking parameters (``utm_*``, ``fbclid``, ``replytocom`` ...), keeps other query
    parameters in their order, normalises percent-encoding and makes an empty path ``/``.
    Non-http(s) URLs only lose their fragment. Raises ValueError for an invalid port.
    """
    url = safe_url_string(url.strip())
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.netloc:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    host, port = _host_port(parts)
    netloc = host if port is None else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{netloc}"
    path = _normalise_escapes(parts.path) or "/"
    kept = [pair for name, pair in _split_query(parts.query) if not _is_tracking(name)]
    query = _normalise_escapes("&".join(kept))
    return urlunsplit((scheme, netloc, path, query, ""))


def _strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


_INDEX_FILE = re.compile(r"/(?:index|default)\.(?:html?|shtml|php|aspx?)$", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)
def url_key(url: str) -> str:
    """Dedupe identity of a URL: canonical form, ``www.``, a trailing slash and a directory
    index file (``/a/index.html`` is ``/a/``) ignored."""
    parts = urlsplit(canonicalize(url))
    if parts.scheme not in DEFAULT_PORTS:
        return urlunsplit(parts)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{_strip_www(hostport)}"
    path = _INDEX_FILE.sub("/", parts.path).rstrip("/") or "/"
    return urlunsplit((parts.scheme, netloc, path, parts.query, ""))


_DIRECTORY_INDEX = re.compile(r"/index\.html?$", re.IGNORECASE)


def directory_url(url: str) -> str:
    """``/a/index.html`` -> ``/a/``: the spelling blogs link a static page under (the
    directory index is what a static host serves for the directory)."""
    parts = urlsplit(url)
    if not _DIRECTORY_INDEX.search(parts.path):
        return url
    return urlunsplit(parts._replace(path=_DIRECTORY_INDEX.sub("/", parts.path)))


def same_resource(a: str, b: str) -> bool:
    """Two spellings of one page: equal keys once scheme and port are ignored as well."""
    try:
        ka, kb = urlsplit(url_key(a)), urlsplit(url_key(b))
    except ValueError:
        return False
    host = lambda p: (p.hostname or "").removeprefix("www.")  # noqa: E731
    return (host(ka), ka.path, ka.query) == (host(kb), kb.path, kb.query)


def record_identity(url: str, declared: str | None, site: str | None = None) -> str:
    """The `canonical_url` of a record fetched at `url` whose page declares `declared`
    (`rel=canonical`, `og:url`). The declaration is evidence, not an order: it names the
    record only when it is a URL of the same blog (`site`'s scope; without a site, the same
    host and port) and not merely another spelling of `url` (an ``index.html`` suffix,
    another scheme or port): a canonical pointing to another blog (a cross-post) never makes
    this page a version of that blog's post."""
    if not declared or declared == url or same_resource(url, declared):
        return url
    try:
        scope = (
            SiteScope(site)
            if site
            else SiteScope(f"{urlsplit(url).scheme}://{urlsplit(url).netloc}/")
        )
    except ValueError:
        return url
    if not scope.contains(declared) or is_never_content(declared):
        return url
    return canonicalize(declared)


_ASSET_EXTENSIONS = frozenset(
    {
        # images
        "jpg", "jpeg", "jpe", "png", "gif", "webp", "avif", "svg", "svgz", "ico", "bmp",
        "tif", "tiff", "heic", "heif", "jxl", "psd", "eps", "raw",
        # styles, scripts, data
        "css", "js", "mjs", "map", "wasm", "swf",
        # documents
        "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf",
        "epub", "mobi", "azw", "azw3", "csv", "tsv",
        # archives, binaries
        "zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "tar", "zst", "dmg", "exe", "msi",
        "apk", "deb", "rpm", "iso", "bin", "img", "jar",
        # audio, video
        "mp3", "m4a", "m4b", "aac", "ogg", "oga", "opus", "wav", "flac", "wma", "mid",
        "midi", "mp4", "m4v", "mov", "avi", "mkv", "webm", "ogv", "wmv", "flv", "mpg",
        "mpeg", "3gp", "m3u8", "ts",
        # fonts
        "woff", "woff2", "ttf", "otf", "eot",
    }
)  # fmt: skip
_ASSET_DIRS = ("/wp-content/uploads/", "/wp-includes/", "/wp-content/themes/",
               "/wp-content/plugins/", "/wp-content/cache/")  # fmt: skip
_BLOGSPOT_MEDIA_HOSTS = ("bp.blogspot.com", "googleusercontent.com")

_NEVER_PATHS = ("/wp-admin/", "/wp-json/", "/cdn-cgi/", "/xmlrpc.php", "/wp-login.php",
                "/wp-signup.php", "/wp-activate.php", "/wp-cron.php", "/wp-comments-post.php",
                "/wp-trackback.php", "/wp-links-opml.php", "/comments/feed/")  # fmt: skip
_NEVER_QUERY_KEYS = frozenset(
    {"replytocom", "share", "s", "attachment_id", "rest_route", "unapproved",
     "moderation-hash", "like_comment", "_wpnonce", "preview_id", "preview_nonce",
     "customize_changeset_uuid", "doing_wp_cron"}
)  # fmt: skip
_FEED_TAIL = re.compile(r"/feed(?:/(?:rss2?|rdf|atom))?/?$|/(?:rss|atom)\.xml$|/feeds/posts/")


def is_feed_url(url: str) -> bool:
    """True for WordPress-style feed URLs (``/feed/``, ``/feed/atom/``, ``?feed=rss2``, Blogger)."""
    parts = urlsplit(url.strip())
    if _FEED_TAIL.search(parts.path.lower()):
        return True
    return any(unquote(name).lower() == "feed" for name, _ in _split_query(parts.query))


def is_asset(url: str) -> bool:
    """True for static files: images, css, js, documents, archives, media, fonts, uploads."""
    parts = urlsplit(url.strip())
    path = unquote(parts.path).lower()
    if any(d in path for d in _ASSET_DIRS):
        return True
    host = (parts.hostname or "").lower()
    if host.endswith(_BLOGSPOT_MEDIA_HOSTS):
        return True
    last = path.rsplit("/", 1)[-1]
    ext = posixpath.splitext(last)[1][1:]
    return ext in _ASSET_EXTENSIONS


def is_never_content(url: str) -> bool:
    """True for blog URLs that are never posts and need not be fetched.

    Admin, login, REST API, XML-RPC, comment feeds, trackbacks, embeds, searches,
    comment-reply / share / attachment links, ``#respond``, Cloudflare ``/cdn-cgi/`` and
    non-http schemes (``mailto:``, ``tel:``, ``javascript:`` ...). Post and archive feeds
    (``/feed/``) are not included: see :func:`is_feed_url`.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in DEFAULT_PORTS:
        return True
    path = unquote(parts.path).lower()
    slashed = path if path.endswith("/") else path + "/"
    if any(p in slashed for p in _NEVER_PATHS) or slashed.endswith("/wp-admin/"):
        return True
    if re.search(r"/(?:trackback|embed)/$", slashed) or "/attachment/" in path:
        return True
    if parts.fragment.lower() == "respond":
        return True
    for name, pair in _split_query(parts.query):
        key = unquote(name).strip().lower()
        if key in _NEVER_QUERY_KEYS:
            return True
        if key == "preview" and pair.lower().endswith("=true"):
            return True
    return False


class SiteScope:
    """Which URLs belong to a blog, given its start URL.

    Same host (``www.`` ignored), same port (explicit ports must match; the default ports of
    http and https count as "no port", so an http<->https switch stays in scope), and the path
    under the start URL's prefix: ``/blog/`` for ``https://x.org/blog/`` (and for
    ``.../blog/index.php``), ``/blog`` for ``https://x.org/blog`` (matching ``/blog`` and
    ``/blog/...``, not ``/blogroll``).
    """

    def __init__(self, start_url: str) -> None:
        parts = urlsplit(canonicalize(start_url))
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http(s) start URL: {start_url!r}")
        self.start_url = urlunsplit(parts)
        self.scheme = parts.scheme
        host, self.port = _host_port(parts)
        self.host = _strip_www(host)
        path = parts.path or "/"
        last = path.rsplit("/", 1)[-1]
        if "." in last:  # a file such as index.php / index.html: take its directory
            path = path[: len(path) - len(last)]
        self.prefix = path
        self._base = path.rstrip("/")  # "" for the site root

    @property
    def root(self) -> str:
        """``scheme://host[:port]/`` of the site (with the host as in the start URL)."""
        parts = urlsplit(self.start_url)
        return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))

    @property
    def base(self) -> str:
        """The start URL's directory, ending in ``/`` (``https://x.org/blog/``)."""
        parts = urlsplit(self.start_url)
        return urlunsplit((parts.scheme, parts.netloc, self._base + "/", "", ""))

    def contains(self, url: str) -> bool:
        """True if ``url`` is an http(s) URL of this blog."""
        try:
            parts = urlsplit(canonicalize(url))
            if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
                return False
            host, port = _host_port(parts)
        except ValueError:  # unparseable URL or invalid port
            return False
        if _strip_www(host) != self.host or port != self.port:
            return False
        path = parts.path or "/"
        return not self._base or path == self._base or path.startswith(self._base + "/")

    __contains__ = contains

    # also reachable from a scope: scope.is_asset(url), scope.is_never_content(url)
    is_asset = staticmethod(is_asset)
    is_never_content = staticmethod(is_never_content)

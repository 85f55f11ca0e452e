"""Staying on the blog: nothing outside a blog's scope is fetched, after any hop.

* `ScopeMiddleware` (downloader middleware, before everything else) checks every request
  about to be downloaded, the ones Scrapy makes itself included: redirects and meta refreshes
  (rescheduled as new requests), sitemap and feed hops, a post's comment feed, robots.txt.
  A page of a blog must be in its `SiteScope` (host, port, path prefix); discovery (robots.txt,
  sitemaps, feeds) may be anywhere on the blog's host and port. A request off the blog fails
  with `OffsiteRequest` before a byte is sent, so it is neither fetched nor stored in the
  WARC; the spider logs it by URL with the reason `offsite` (`blogarchive/skipped/offsite`).
* `GuardedResolver` (`DNS_RESOLVER`) checks the address a host name resolves to, where the
  connection is made: a host that resolved to a public address is never let onto a
  loopback, private, link-local or otherwise non-public one later (DNS rebinding), and no
  host but a blog's own reaches such an address. A blog whose start URL is on such an address
  (its IP literal, or a name resolving there on its first look-up) may use its own address.
  Proxies named in the environment (`https_proxy`...) may be on such an address too.
  `SCOPE_ALLOW_PRIVATE_ADDRESSES = True` turns the address check off.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from crawler.budget import request_site
from crawler.urls import SiteScope

logger = logging.getLogger(__name__)


class SkipRequest(IgnoreRequest):
    """A request the crawl refuses, with the stats key and the reason the spider logs."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason


class OffsiteRequest(SkipRequest):
    def __init__(self, reason: str) -> None:
        super().__init__("offsite", reason)


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, multicast, reserved and unspecified addresses."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return host[4:] if host.startswith("www.") else host


def _host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port == {"http": 80, "https": 443}.get(parts.scheme.lower()):
        port = None
    return _host(url), port


#: hosts of the start URLs of the blogs this process crawls (`ScopeMiddleware` fills it)
BLOG_HOSTS: set[str] = set()


class ScopeMiddleware:
    """Downloader middleware: see the module docstring."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.scopes: dict[str, SiteScope] = {}
        self.discovery_callbacks: frozenset[str] = frozenset()
        crawler.signals.connect(self._load, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        if not crawler.settings.getbool("SCOPE_ENABLED"):
            raise NotConfigured
        return cls(crawler)

    def _load(self, spider: Spider) -> None:
        for url in getattr(spider, "site_urls", []):
            self.scopes.setdefault(url, SiteScope(url))
            BLOG_HOSTS.add(_host(url))
        local = set(getattr(spider, "process_local_callbacks", ()))
        self.discovery_callbacks = frozenset(local - {"parse_home"})

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.url.startswith("data:"):
            return
        spider = spider or self.crawler.spider
        if not self.scopes and spider is not None:
            self._load(spider)
        if not self.scopes:
            return
        reason = self.refusal(request)
        if reason is not None:
            self.crawler.stats.inc_value("blogarchive/scope/refused")
            raise OffsiteRequest(reason)

    def refusal(self, request: Request) -> str | None:
        """Why `request` is off its blog, or None when it may be fetched."""
        url = request.url
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return f"not an http(s) URL: {url[:200]}"
        site = request_site(request)
        scope = self.scopes.get(site) if site is not None else None
        origin = (request.meta.get("redirect_urls") or [None])[0]
        hop = f" (redirected from {origin})" if origin else ""
        if scope is None:
            # Scrapy's own requests (robots.txt): on the host of one of the blogs
            target = _host_port(url)
            if any(target == (s.host, s.port) for s in self.scopes.values()):
                return None
            return f"off every blog: {url[:200]}{hop}"
        if scope.contains(url):
            return None
        callback = getattr(request.callback, "__name__", None)
        if callback in self.discovery_callbacks and _host_port(url) == (scope.host, scope.port):
            return None
        return f"off the blog {site}: {url[:200]}{hop}"


def _proxy_hosts() -> set[str]:
    return {
        _host(value if "://" in value else f"http://{value}")
        for name, value in os.environ.items()
        if name.lower().endswith("_proxy") and name.lower() != "no_proxy" and value
    }


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that refuses non-public addresses (module docstring)."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allow_private = False
        self.public: set[str] = set()  # names seen on a public address

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        """`crawler` is the CrawlerProcess here: the resolver is one per process."""
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool("SCOPE_ALLOW_PRIVATE_ADDRESSES")
        return resolver

    def blog_hosts(self) -> set[str]:
        """The blogs' hosts, and those of the proxies in the environment (Scrapy's
        HttpProxyMiddleware connects to them: an intranet proxy is fine)."""
        return BLOG_HOSTS | _proxy_hosts()

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:  # noqa: N802
        return super().getHostByName(name, timeout).addCallback(self.check, name)

    def check(self, address: str, name: str) -> str:
        """`address` if `name` may connect there, else DNSLookupError (a clear reason)."""
        if self.allow_private:
            return address
        host = name.rstrip(".").lower()
        host = host[4:] if host.startswith("www.") else host
        if is_public_address(address):
            self.public.add(host)
            return address
        if host in self.public:
            reason = "it resolved to a public address before (DNS rebinding)"
        elif host not in self.blog_hosts():
            reason = "it is not the host of a blog's start URL"
        else:
            return address  # the blog itself lives there
        logger.warning(
            "refused to connect to %s at %s: non-public address, and %s "
            "(SCOPE_ALLOW_PRIVATE_ADDRESSES)",
            name, address, reason,
        )  # fmt: skip
        raise DNSLookupError(f"{name} resolved to the non-public address {address}: refused")

"""`scrapy crawl blogs -a site=URL[,URL...]` / `-a sites=FILE`: every post and page of each blog."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler import discovery
from crawler.auth import redact, split_credentials
from crawler.extract.comments import comments_from_feed
from crawler.extract.page import PageError, is_html_response
from crawler.extract.profile import SiteProfile, load_profiles, save_profiles
from crawler.extract.types import Hints
from crawler.scope import SkipRequest
from crawler.state import CrawlState, CrawlStateExtension, UrlState, move_aside, recheck_due
from crawler.urls import (
    SiteScope,
    canonicalize,
    directory_url,
    is_asset,
    is_never_content,
    url_key,
)
from crawler.workers import ExtractionPool
from schemas import PostRecord, Tombstone, WarcRef

logger = logging.getLogger(__name__)

PRIORITY_DISCOVERY = 20
PRIORITY_LISTING = 10
PRIORITY_CONTENT = 0
MAX_BUFFERED_LINKS = 20_000
DISCOVERY_ERROR_STATUSES = [400, 401, 403, 404, 405, 406, 410, 429, 500, 502, 503, 504]


def read_sites(site: str | None = None, sites: str | None = None) -> list[str]:
    """Blog URLs from `-a site=URL1,URL2` and/or `-a sites=FILE` (a URL a line, # comments)."""
    found: list[str] = []
    if site:
        found += [s.strip() for s in site.split(",") if s.strip()]
    if sites:
        for line in Path(sites).read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                found.append(line)
    cleaned: list[str] = []
    for url in found:
        if "://" not in url:
            url = "https://" + url
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) blog URL: {redact(url)!r}")
        url = canonicalize(url)
        if url not in cleaned:
            cleaned.append(url)
    if not cleaned:
        raise ValueError("no blog to crawl: pass -a site=https://blog.example/ or -a sites=FILE")
    return cleaned


@dataclass
class SiteState:
    """What the crawl knows about one blog while it runs."""

    start_url: str
    scope: SiteScope
    pending_discovery: int = 0
    content_found: int = 0
    feeds_requested: bool = False
    follow_all: bool = False
    gone_checked: bool = False
    feed_items: dict[str, set[str]] = field(default_factory=dict)  # feed -> item url keys
    recheck_after: dict[str, float] = field(default_factory=dict)  # url key -> newest comment
    buffered_links: dict[str, None] = field(default_factory=dict)


class BlogsSpider(scrapy.Spider):
    name = "blogs"
    # Callbacks that use this process's state (`pending_discovery`, `profile_buffer`): with a
    # shared frontier (crawler/redis.py) their requests stay in the process that made them.
    process_local_callbacks = frozenset(
        {"parse_robots", "parse_sitemap", "parse_feed", "parse_comments_feed", "parse_home",
         "flush_profiles"}
    )  # fmt: skip

    def __init__(self, site: str | None = None, sites: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.credentials: dict[str, tuple[str, str]] = {}  # start URL -> basic auth
        self.site_urls = []
        for url in read_sites(site, sites):
            url, credentials = split_credentials(url)
            self.site_urls.append(url)
            if credentials is not None:
                self.credentials[url] = credentials
        self.sites: dict[str, SiteState] = {
            url: SiteState(url, SiteScope(url)) for url in self.site_urls
        }
        self.scheduled: set[str] = set()
        self.discovery_seen: set[str] = set()
        self.profiles: dict[str, SiteProfile] = {}
        self.profile_buffer: dict[str, list[tuple[dict[str, Any], WarcRef | None, Any]]] = {}
        self.fetched: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> BlogsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.extraction_enabled = crawler.settings.getbool("EXTRACTION_ENABLED", True)
        spider.pool = ExtractionPool.from_settings(crawler.settings)
        spider.feed_max_pages = crawler.settings.getint("FEED_MAX_PAGES", 1000)
        settings = crawler.settings
        spider.recheck_all = settings.getbool("RECHECK_ALL", False)
        spider.recheck = {
            "factor": settings.getfloat("RECHECK_FACTOR", 0.1),
            "minimum": settings.getfloat("RECHECK_MIN_INTERVAL", 3600.0),
            "maximum": settings.getfloat("RECHECK_MAX_INTERVAL", 30 * 86400.0),
        }
        spider.crawl_started = time.time()
        crawler.signals.connect(spider._check_gone_posts, signal=signals.spider_idle)
        if settings.getbool("SITE_PROFILES_ENABLED", True) and spider.extraction_enabled:
            writer = settings.get("ARCHIVE_WRITER_ID", "main")
            spider.profiles_path = Path(settings.get("ARCHIVE_DIR", "archive-data")) / (
                f"profiles-{writer}.json"
            )
            spider.profiles = _load_profiles(spider.profiles_path)
            for url in spider.site_urls:
                spider.profiles.setdefault(url, SiteProfile(site=url))
            crawler.signals.connect(spider._flush_idle, signal=signals.spider_idle)
            crawler.signals.connect(spider._save_profiles, signal=signals.spider_closed)
        contact = crawler.settings.get("CONTACT")
        if contact:
            spider.user_agent = f"{crawler.settings.get('USER_AGENT')} (+{contact})"
        crawler.signals.connect(spider._close_pool, signal=signals.spider_closed)
        return spider

    def _flush_idle(self) -> None:
        """Pages still held for a profile that never warmed up (a small blog) go out now."""
        if self.profile_buffer and self.crawler.engine is not None:
            self.crawler.engine.crawl(
                Request("data:,", callback=self.flush_profiles, dont_filter=True, priority=100)
            )
            raise DontCloseSpider

    def held_urls(self) -> set[str]:
        """Fetched pages whose records are held back (profile warm-up): with a shared frontier
        (crawler/redis.py) their requests stay leased until the records are out."""
        return {page["url"] for held in self.profile_buffer.values() for page, _, _ in held}

    def _save_profiles(self) -> None:
        for profile in self.profiles.values():
            if profile.pages:
                self._log_profile(profile)
        try:
            save_profiles(self.profiles_path, [p for p in self.profiles.values() if p.pages])
        except OSError as exc:  # the next crawl learns the profile again
            logger.error("cannot save the site profiles to %s: %s", self.profiles_path, exc)

    def _close_pool(self) -> None:
        self.pool.close()

    # -- start ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for state in self.sites.values():
            for request in self.site_start_requests(state):
                yield request

    def site_start_requests(self, state: SiteState) -> Iterable[Request]:
        root = f"{urlsplit(state.start_url).scheme}://{urlsplit(state.start_url).netloc}"
        yield from self.discovery_request(
            state, root + "/robots.txt", self.parse_robots, probe=True
        )
        for url in discovery.sitemap_candidates(state.start_url):
            yield from self.discovery_request(state, url, self.parse_sitemap, probe=True)
        state.pending_discovery += 1  # the home page: it names the feeds
        home = self.page_request(state, state.start_url, None, PRIORITY_LISTING, force=True)
        assert home is not None
        yield home.replace(callback=self.parse_home, errback=self.home_failed)

    def discovery_request(
        self, state: SiteState, url: str, callback: Any, *, probe: bool = False, **meta: Any
    ) -> Iterable[Request]:
        """A robots.txt, sitemap or feed request (none if already made); `probe`: a guessed
        URL, where a 404 is expected. Every one ends in `_discovery_done`, so it bypasses the
        dupefilter (a filtered request would never call back)."""
        key = url_key(url)
        if key in self.discovery_seen:
            return
        self.discovery_seen.add(key)
        state.pending_discovery += 1
        yield Request(
            url,
            callback=callback,
            errback=self.discovery_failed,
            priority=PRIORITY_DISCOVERY,
            dont_filter=True,
            meta={
                "site": state.start_url,
                "probe": probe,
                "handle_httpstatus_list": DISCOVERY_ERROR_STATUSES,
                **meta,
            },
        )

    @property
    def crawl_state(self) -> CrawlState | None:
        return CrawlStateExtension.of(self.crawler)

    def page_request(
        self,
        state: SiteState,
        url: str,
        hints: Hints | None,
        priority: int = PRIORITY_CONTENT,
        *,
        force: bool = False,
    ) -> Request | None:
        if not state.scope.contains(url) or is_asset(url) or is_never_content(url):
            return None
        url = directory_url(url)  # one page, one URL: the one blogs link
        key = url_key(url)
        if key in self.scheduled:
            return None
        known = self.crawl_state.get(url) if self.crawl_state is not None else None
        headers: dict[str, str] = {}
        revisit = known is not None and (known.archived or known.kind == "listing")
        if known is not None and revisit and not force:
            reason = self._recheck_reason(state, key, known, hints)
            if reason is None:
                self.crawler.stats.inc_value("blogarchive/not_refetched")
                return None
            logger.debug("re-checking %s: %s", url, reason)
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        self.scheduled.add(key)
        return Request(
            url,
            callback=self.parse_page,
            errback=self.page_failed,
            priority=priority,
            headers=headers or None,
            meta={
                "site": state.start_url,
                "hints": hints,
                "known_version": known.version if known is not None else 0,
                "handle_httpstatus_list": [304],
            },
        )

    def _recheck_reason(
        self, state: SiteState, key: str, known: UrlState, hints: Hints | None
    ) -> str | None:
        """Why an archived URL should be fetched again, or None to leave it."""
        if self.recheck_all:
            return "RECHECK_ALL"
        fetched = known.last_fetched or 0.0
        for label, value in (
            ("sitemap lastmod", hints.lastmod if hints else None),
            ("feed update", hints.updated if hints else None),
        ):
            when = _timestamp(value)
            if when is not None and when > fetched:
                return f"{label} {value} is newer than the last fetch"
        if state.recheck_after.get(key, 0.0) > fetched:
            return "a comment newer than the last fetch"
        if recheck_due(known, time.time(), **self.recheck):
            return "due for its periodic re-check"
        return None

    # -- discovery -----------------------------------------------------------------------

    def _usable_discovery_response(self, response: Response, what: str) -> bool:
        if 200 <= response.status < 300:
            return True
        probe = response.meta.get("probe")
        (logger.debug if probe else logger.warning)(
            "no %s at %s (HTTP %d)", what, response.url, response.status
        )
        if not probe:
            self.crawler.stats.inc_value(f"blogarchive/discovery_errors/http_{response.status}")
        return False

    def _discovery_done(self, state: SiteState) -> Iterable[Request]:
        """Called once per finished discovery request; starts link following if needed."""
        state.pending_discovery -= 1
        if state.pending_discovery == 0 and state.content_found == 0 and not state.follow_all:
            logger.info(
                "%s offers no sitemap or feed with posts: following its links", state.start_url
            )
            state.follow_all = True
            for url in list(state.buffered_links):
                if request := self.page_request(state, url, None):
                    yield request
            state.buffered_links.clear()

    def _discovery_step(
        self, response: Response, what: str, parse: Any, follow: Any
    ) -> Iterable[Request]:
        """The common shape of a discovery callback: check the response, parse it (a
        DiscoveryError is logged by URL and counted), follow what it names, and close the step."""
        state = self.sites[response.meta["site"]]
        parsed = None
        if self._usable_discovery_response(response, what):
            try:
                parsed = parse(response.body, response.url)
            except discovery.DiscoveryError as exc:
                self._discovery_error(response.url, what, exc)
            else:
                yield from follow(state, response, parsed)
        if parsed is None and response.meta.get("fallback"):
            yield from self._next_feed_page(state, response.meta["fallback"])
        yield from self._discovery_done(state)

    def parse_robots(self, response: Response) -> Iterable[Request]:
        yield from self._discovery_step(
            response, "robots", discovery.parse_robots, self._robots_requests
        )

    def _robots_requests(
        self, state: SiteState, response: Response, robots: discovery.RobotsInfo
    ) -> Iterable[Request]:
        for sitemap in robots.sitemaps:
            if state.scope.contains(sitemap) or _same_host(sitemap, state.start_url):
                yield from self.discovery_request(state, sitemap, self.parse_sitemap)

    def parse_sitemap(self, response: Response) -> Iterable[Request]:
        yield from self._discovery_step(
            response, "sitemap", discovery.parse_sitemap, self._sitemap_requests
        )

    def _sitemap_requests(
        self, state: SiteState, response: Response, sitemap: discovery.Sitemap
    ) -> Iterable[Request]:
        self.crawler.stats.inc_value("blogarchive/sitemaps")
        url = response.url
        if sitemap.kind == "index":
            for entry in sitemap.entries:
                if _same_host(entry.loc, state.start_url):
                    yield from self.discovery_request(state, entry.loc, self.parse_sitemap)
            return
        kind = discovery.sitemap_kind(url)
        if kind == "other":
            return
        for entry in sitemap.entries:
            hints = Hints(lastmod=entry.lastmod, sitemap_kind=kind)
            state.content_found += 1
            self._listed(state, entry.loc, hints)
            if request := self.page_request(state, entry.loc, hints):
                yield request

    def parse_feed(self, response: Response) -> Iterable[Request]:
        yield from self._discovery_step(response, "feed", discovery.parse_feed, self._feed_requests)

    def _feed_requests(
        self, state: SiteState, response: Response, feed: discovery.Feed
    ) -> Iterable[Request]:
        self.crawler.stats.inc_value("blogarchive/feeds")
        new_items = 0
        seen = state.feed_items.setdefault(response.meta.get("feed_url", response.url), set())
        for item in feed.items:
            key = url_key(item.link)
            if key not in seen:
                seen.add(key)
                new_items += 1
            state.content_found += 1
            self._listed(state, item.link, item.hints)
            if request := self.page_request(state, item.link, item.hints):
                yield request
        page = response.meta.get("feed_page", 1)
        next_url = feed.next_url
        if not next_url and feed.items and _is_wordpress_feed(response):
            next_url = discovery.wordpress_feed_page(response.meta["feed_url"], page + 1)
        if not (next_url and new_items and page < self.feed_max_pages):
            if next_url and feed.items and not new_items:
                logger.info("feed %s repeats earlier items: not paging further", response.url)
            next_url = None
        if next_url and not _same_host(next_url, state.start_url):
            next_url = None
        next_page = (
            {"url": next_url, "feed_page": page + 1, "feed_url": response.meta["feed_url"]}
            if next_url
            else None
        )
        twin = discovery.atom_twin(response.meta["feed_url"], feed)
        if twin and page == 1 and _same_host(twin, state.start_url):
            # the RSS items carry no update dates; its Atom twin does and pages on instead,
            # unless it is missing: then the RSS pages on (`fallback`)
            yield from self.discovery_request(
                state, twin, self.parse_feed, probe=True, feed_url=twin, feed_page=1,
                fallback=next_page,
            )  # fmt: skip
        elif next_page:
            yield from self._next_feed_page(state, next_page)

    def _next_feed_page(self, state: SiteState, next_page: dict) -> Iterable[Request]:
        yield from self.discovery_request(
            state,
            next_page["url"],
            self.parse_feed,
            probe=True,
            feed_page=next_page["feed_page"],
            feed_url=next_page["feed_url"],
        )

    def _listed(self, state: SiteState, url: str, hints: Hints) -> None:
        if self.crawl_state is not None and state.scope.contains(url):
            self.crawl_state.listed(
                url, site=state.start_url, lastmod=hints.lastmod, feed_date=hints.updated
            )

    def parse_comments_feed(self, response: Response) -> Iterable[Request]:
        """The blog-wide comment feed: posts with comments newer than our copy are re-checked."""
        yield from self._discovery_step(
            response, "feed", discovery.parse_feed, self._comment_feed_requests
        )

    def _comment_feed_requests(
        self, state: SiteState, response: Response, feed: discovery.Feed
    ) -> Iterable[Request]:
        for item in feed.items:
            when = _timestamp(item.hints.published or item.hints.updated)
            if when is None:
                continue
            key = url_key(item.link)
            state.recheck_after[key] = max(state.recheck_after.get(key, 0.0), when)
            if request := self.page_request(state, item.link, None):
                yield request

    def _check_gone_posts(self) -> None:
        """When discovery is over: archived posts no feed or sitemap named this time are
        fetched once more, so a deleted post gets its tombstone."""
        if self.crawl_state is None:
            return
        scheduled = False
        for state in self.sites.values():
            if state.gone_checked or state.pending_discovery > 0:
                continue
            state.gone_checked = True
            for known in self.crawl_state.known_urls(state.start_url):
                unlisted = known.last_listed is not None and known.last_listed < self.crawl_started
                if not known.archived or not unlisted or url_key(known.url) in self.scheduled:
                    continue
                if request := self.page_request(state, known.url, None, force=True):
                    logger.info("%s is no longer listed: checking it", known.url)
                    self.crawler.engine.crawl(request)
                    scheduled = True
        if scheduled:
            raise DontCloseSpider

    def feed_requests(
        self, state: SiteState, urls: list[str], comment_feeds: list[str] = ()
    ) -> Iterable[Request]:
        """The site's feeds, advertised ones first; the usual paths only when none is. The
        blog-wide comment feed matters to re-crawls only (which posts got new comments)."""
        if state.feeds_requested:
            return
        state.feeds_requested = True
        if self.crawl_state is not None and self.crawl_state.known_urls(state.start_url):
            for url in comment_feeds:
                if _same_host(url, state.start_url):
                    yield from self.discovery_request(state, url, self.parse_comments_feed)
        probe = not urls
        for url in urls or discovery.feed_candidates(state.start_url):
            if not _same_host(url, state.start_url):
                continue
            yield from self.discovery_request(
                state, url, self.parse_feed, probe=probe, feed_url=url, feed_page=1
            )

    def _discovery_error(self, url: str, what: str, exc: discovery.DiscoveryError) -> None:
        logger.warning("malformed %s %s: %s", what, url, exc.reason)
        self.crawler.stats.inc_value(f"blogarchive/discovery_errors/malformed_{what}")

    def discovery_failed(self, failure: Failure) -> Iterable[Request]:
        request = failure.request  # type: ignore[attr-defined]
        state = self.sites[request.meta["site"]]
        if request.meta.get("fallback"):
            yield from self._next_feed_page(state, request.meta["fallback"])
        refused = isinstance(failure.value, SkipRequest)
        level = logging.DEBUG if request.meta.get("probe") and not refused else logging.WARNING
        logger.log(level, "could not fetch %s: %s", request.url, failure_reason(failure)[1])
        yield from self._discovery_done(state)

    # -- pages ---------------------------------------------------------------------------

    async def parse_home(self, response: Response) -> AsyncIterator[Any]:
        """The start page: a page like any other, and the end of its discovery step."""
        async for result in self.parse_page(response):
            yield result
        for request in self._discovery_done(self.sites[response.meta["site"]]):
            yield request

    def home_failed(self, failure: Failure) -> Iterable[Request]:
        self.page_failed(failure)
        yield from self._discovery_done(self.sites[failure.request.meta["site"]])  # type: ignore[attr-defined]

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        state = self.sites[response.meta["site"]]
        stats = self.crawler.stats
        stats.inc_value("blogarchive/pages_fetched")
        if not state.scope.contains(response.url):
            self.skip(
                response.url, "redirected_offsite", f"redirected off the blog to {response.url}"
            )
            return
        key = url_key(response.url)
        if key in self.fetched and self.fetched[key] != response.request.url:
            self.skip(response.url, "duplicate", f"already fetched as {self.fetched[key]}")
            return
        self.fetched[key] = response.request.url
        self.scheduled.add(key)
        if self.crawl_state is not None:
            self.crawl_state.fetched(
                response.url,
                etag=_header(response, b"ETag"),
                last_modified=_header(response, b"Last-Modified"),
            )
        if response.status == 304:
            stats.inc_value("blogarchive/not_modified")
            logger.debug("%s not modified (304)", response.url)
            return
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        if not is_html_response(content_type, response.body):
            self.skip(response.url, "not_html", f"not HTML ({content_type or 'no Content-Type'})")
            return
        page = {
            "body": response.body,
            "url": response.url,
            "encoding": getattr(response, "encoding", None),
            "hints": response.meta.get("hints"),
            "site": state.start_url,
            "status": response.status,
            "fetched_at": datetime.now(timezone.utc),
            "site_root": key == url_key(state.start_url),
            "extract": self.extraction_enabled,
            # a post's links matter only to the home page, link following, or its fallback
            "want_links": key == url_key(state.start_url)
            or state.follow_all
            or state.pending_discovery > 0,
        }
        profile = self.profiles.get(state.start_url)
        warming_up = profile is not None and not profile.ready
        analysis = await self._analyse(page, profile)
        if analysis is None:
            return

        for request in self._follow(state, response, analysis):
            yield request

        logger.debug("classified %s as %s: %s", response.url, analysis.kind, analysis.signals)
        if analysis.kind == "listing":
            stats.inc_value("blogarchive/listings")
            if self.crawl_state is not None:
                self.crawl_state.listing_seen(response.url, site=state.start_url)
            return
        if not self.extraction_enabled:
            stats.inc_value("blogarchive/content_pages")
            return
        if profile is not None:
            profile.add_page(analysis.fingerprints, analysis.block_samples or None)
            if not profile.ready:
                # the site's template is not known yet: hold the page until it is
                self.profile_buffer.setdefault(state.start_url, []).append(
                    (page, response.meta.get("warc"), analysis)
                )
                return
            if state.start_url in self.profile_buffer:
                async for result in self._flush_profile_buffer(state):
                    yield result
            if warming_up and profile.boilerplate().intersection(analysis.fingerprints):
                analysis = await self._analyse(page, profile) or analysis
        for result in self._emit(state, page["url"], analysis, response.meta.get("warc")):
            yield result

    async def _analyse(self, page: dict[str, Any], profile: SiteProfile | None) -> Any:
        """`analyse_page` in a worker; None (with a log line) when the page is unusable."""
        ready = profile is not None and profile.ready
        boilerplate = profile.boilerplate() if ready else frozenset()
        try:
            return await self.pool.analyse(
                **page, boilerplate=boilerplate, block_samples=profile is not None and not ready
            )
        except PageError as exc:
            reason = str(exc)
            self.skip(page["url"], reason.split(":")[0].replace(" ", "_"), reason)
        except Exception as exc:
            logger.exception("extraction failed on %s", page["url"])
            self.crawler.stats.inc_value(f"blogarchive/errors/extraction_{type(exc).__name__}")
        return None

    async def _flush_profile_buffer(self, state: SiteState) -> AsyncIterator[Any]:
        """Extract the pages held while the site's profile warmed up, now with the profile."""
        profile = self.profiles[state.start_url]
        held = self.profile_buffer.pop(state.start_url, [])
        if profile.ready:
            logger.info(
                "site profile of %s: %d template blocks learned from %d pages",
                profile.site, len(profile.boilerplate()), profile.pages,
            )  # fmt: skip
        learned = profile.boilerplate() if profile.ready else frozenset()
        for page, warc, first in held:
            analysis: Any = first
            if learned.intersection(first.fingerprints):
                analysis = await self._analyse(page, profile)
            if analysis is not None:
                for result in self._emit(state, page["url"], analysis, warc):
                    yield result

    def _log_profile(self, profile: SiteProfile) -> None:
        learned = profile.explain()
        logger.info(
            "site profile of %s: %d template blocks learned from %d pages%s",
            profile.site,
            len(learned),
            profile.pages,
            "".join(
                f"\n  {r['pages']} pages: {r['sample'] or r['fingerprint']}" for r in learned[:20]
            ),
        )

    async def flush_profiles(self, response: Response) -> AsyncIterator[Any]:
        """Callback of the `data:` request `_flush_idle` schedules when the crawl runs dry
        (all blogs), or `crawler.safety.WarmupDeadline` when pages waited too long (only the
        blogs in `flush_sites`)."""
        only = response.meta.get("flush_sites")
        for state in self.sites.values():
            if state.start_url in self.profile_buffer and (only is None or state.start_url in only):
                async for result in self._flush_profile_buffer(state):
                    yield result

    def _emit(
        self, state: SiteState, url: str, analysis: Any, warc: WarcRef | None
    ) -> Iterable[Any]:
        """The record of an analysed post or page, once per canonical URL."""
        if analysis.removed:
            profile = self.profiles.get(state.start_url)
            if profile is not None:
                profile.note_samples(analysis.removed)
            self.crawler.stats.inc_value(
                "blogarchive/template_blocks_removed", len(analysis.removed)
            )
            logger.debug("removed template blocks from %s: %s", url, analysis.removed)
        if analysis.record is None:
            self.skip(url, "no_record", analysis.skip_reason or "no record")
            return
        key = url_key(url)
        canonical_key = url_key(analysis.record.canonical_url)
        if canonical_key != key and canonical_key in self.fetched:
            self.skip(url, "duplicate", f"canonical URL {analysis.record.canonical_url}")
            return
        self.fetched.setdefault(canonical_key, url)
        record = analysis.record
        record.warc = warc  # the raw response (crawler.warc); None if off
        incomplete = any(not c.text or c.published is None for c in record.comments)
        if incomplete and analysis.comment_feed:
            yield Request(
                analysis.comment_feed,
                callback=self.complete_comments,
                errback=self.comments_feed_failed,
                priority=PRIORITY_DISCOVERY,
                meta={
                    "record": record,
                    "site": state.start_url,
                    "handle_httpstatus_list": DISCOVERY_ERROR_STATUSES,
                },
                dont_filter=True,
            )
            return
        yield record

    def complete_comments(self, response: Response) -> Iterable[PostRecord]:
        """Fill comment texts and dates the page left out from the post's comment feed."""
        record: PostRecord = response.meta["record"]
        try:
            if response.status != 200:
                raise discovery.DiscoveryError(response.url, f"HTTP {response.status}")
            feed = discovery.parse_feed(response.body, response.url)
        except discovery.DiscoveryError as exc:
            logger.warning("comment feed %s of %s unusable: %s", response.url, record.url, exc)
            yield record
            return
        from_feed = comments_from_feed(
            (i.link, (i.hints.authors or [None])[0], i.hints.published, i.content_html)
            for i in feed.items
        )
        comments = []
        for comment in record.comments:
            extra = from_feed.get(comment.id, {})
            comments.append(
                comment.model_copy(
                    update={
                        "text": comment.text or extra.get("text") or "",
                        "published": comment.published
                        or (
                            datetime.fromisoformat(extra["published"])
                            if extra.get("published")
                            else None
                        ),
                    }
                )
            )
        self.crawler.stats.inc_value("blogarchive/comment_feeds")
        yield PostRecord.model_validate(
            {**record.model_dump(), "comments": [c.model_dump() for c in comments]}
        )

    def comments_feed_failed(self, failure: Failure) -> Iterable[PostRecord]:
        request = failure.request  # type: ignore[attr-defined]
        logger.warning("comment feed %s: %s", request.url, failure_reason(failure)[1])
        yield request.meta["record"]

    def _follow(self, state: SiteState, response: Response, analysis: Any) -> Iterable[Request]:
        is_root = url_key(response.url) == url_key(state.start_url)
        if analysis.feed_links or is_root:
            yield from self.feed_requests(state, analysis.feed_links, analysis.comment_feeds)
        wanted: list[tuple[str, int]] = []
        if analysis.kind == "listing":
            wanted += [(u, PRIORITY_LISTING) for u in analysis.next_links]
            wanted += [(u, PRIORITY_CONTENT) for u in analysis.entry_links]
        if is_root or state.follow_all:
            wanted += [(u, PRIORITY_CONTENT) for u in analysis.links]
        elif len(state.buffered_links) < MAX_BUFFERED_LINKS:
            for url in analysis.links:
                state.buffered_links.setdefault(url)
        for url, priority in wanted:
            if request := self.page_request(state, url, None, priority):
                yield request

    def page_failed(self, failure: Failure) -> Iterable[Tombstone]:
        request = failure.request  # type: ignore[attr-defined]
        key, reason = failure_reason(failure)
        status = getattr(getattr(failure.value, "response", None), "status", None)
        known = self.crawl_state.get(request.url) if self.crawl_state is not None else None
        if status in (404, 410) and known is not None and known.archived:
            logger.info("%s is gone (HTTP %d): archiving a tombstone", request.url, status)
            yield Tombstone(
                url=known.url,
                canonical_url=known.canonical_url or known.url,
                site=known.site or request.meta["site"],
                kind=known.kind or "post",
                deleted_at=datetime.now(timezone.utc),
                status=status,
                version=known.version + 1,
                previous_hash=known.content_hash,
                warc=request.meta.get("warc"),
            )
            return
        self.skip(request.url, key, reason, level=logging.WARNING)

    def skip(self, url: str, key: str, reason: str, level: int = logging.INFO) -> None:
        logger.log(level, "skipped %s: %s", url, reason)
        self.crawler.stats.inc_value(f"blogarchive/skipped/{key}")


def _load_profiles(path: Path) -> dict[str, SiteProfile]:
    """The stored site profiles; a damaged file is moved aside (WARNING) and learnt again."""
    if not path.exists():
        return {}
    try:
        return load_profiles(path)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        move_aside(path, f"damaged site profiles ({type(exc).__name__}: {exc})")
        return {}


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _timestamp(value: str | None) -> float | None:
    """Seconds since the epoch of an ISO 8601 date (a date alone counts as its midnight UTC)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _same_host(url: str, site: str) -> bool:
    return urlsplit(url).netloc.lower() == urlsplit(site).netloc.lower()


def _is_wordpress_feed(response: Response) -> bool:
    feed_url = response.meta.get("feed_url", response.url)
    parts = urlsplit(feed_url)
    generator = response.body[:2000].lower()
    return (
        parts.path.rstrip("/").endswith("/feed")
        or "/feed/" in parts.path
        or "feed=" in parts.query
        or b"wordpress.org" in generator
    )


def failure_reason(failure: Failure) -> tuple[str, str]:
    """(stats key, log text) for a failed request."""
    from scrapy.spidermiddlewares.httperror import HttpError

    value = failure.value
    if isinstance(value, SkipRequest):
        return value.key, value.reason
    if isinstance(value, HttpError):
        status = value.response.status
        return f"http_{status}", f"HTTP {status}"
    text = str(value) or type(value).__name__
    lowered = text.lower()
    if type(value).__name__ == "DownloadCancelledError" and not str(value):
        # Scrapy cancels a body that grows past DOWNLOAD_MAXSIZE without saying so here
        return "too_large", "too_large: the body grew larger than DOWNLOAD_MAXSIZE"
    if "larger than download max size" in lowered or "exceeded download_maxsize" in lowered:
        return "too_large", f"too_large: {text}"
    if "robots.txt" in lowered:
        return "robots_txt", "forbidden by robots.txt"
    if "redirect" in lowered:
        return "redirect_loop", f"redirect loop or too many redirects ({text})"
    return type(value).__name__, f"{type(value).__name__}: {text}"

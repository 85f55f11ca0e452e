"""Per-blog crawl budgets: a spider trap (endless `/page/N/`, calendars, `?id=N`, ever deeper
paths) ends by itself, and one trapped blog does not hold back the others.

`BlogBudgetMiddleware` is a spider middleware: it sees every request the spider makes (start
requests too) before it is scheduled, and counts them per blog (`request.meta["site"]`).

* URL rules, per request (link-followed pages only: what a sitemap or feed lists, and
  discovery itself, are exempt): longer than `BUDGET_MAX_URL_LENGTH`, more than
  `BUDGET_MAX_PATH_SEGMENTS` path segments, one segment repeated more than
  `BUDGET_MAX_REPEATED_SEGMENTS` times (`/a/b/a/b/a/b/`), deeper than `BUDGET_MAX_DEPTH` link
  hops from a start page, or more than `BUDGET_MAX_QUERY_VARIANTS` query strings on one path
  with the same parameter names (`/calendar?month=N`). Such a URL is dropped; the first drop
  per blog and rule is logged (WARNING), every one is counted in `blogarchive/budget/<rule>`.
* The blog's budget, `BUDGET_MAX_REQUESTS` requests: when a blog has used it, it is stopped:
  one WARNING line with its numbers, `blogarchive/budget/stopped_blogs`, and no request of
  it is scheduled any more. The other blogs go on.

Every structure here is bounded by the budgets, so memory is too.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def request_site(request: Request) -> str | None:
    """The blog (start URL) a request was made for: its `site` meta, or its record's site."""
    site = request.meta.get("site")
    if site is None and (record := request.meta.get("record")) is not None:
        site = getattr(record, "site", None)
    return site


@dataclass
class Budget:
    """A blog's limits; the defaults are the BUDGET_* settings (crawler/settings.py)."""

    max_requests: int
    max_depth: int
    max_url_length: int
    max_path_segments: int
    max_repeated_segments: int
    max_query_variants: int

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Budget:
        return cls(
            max_requests=settings.getint("BUDGET_MAX_REQUESTS"),
            max_depth=settings.getint("BUDGET_MAX_DEPTH"),
            max_url_length=settings.getint("BUDGET_MAX_URL_LENGTH"),
            max_path_segments=settings.getint("BUDGET_MAX_PATH_SEGMENTS"),
            max_repeated_segments=settings.getint("BUDGET_MAX_REPEATED_SEGMENTS"),
            max_query_variants=settings.getint("BUDGET_MAX_QUERY_VARIANTS"),
        )


@dataclass
class _Blog:
    requests: int = 0
    responses: int = 0
    archived: int = 0
    stopped: str | None = None  # why the blog was stopped
    dropped: Counter[str] = field(default_factory=Counter)
    variants: dict[tuple[str, tuple[str, ...]], set[str]] = field(default_factory=dict)


def url_rule_broken(url: str, budget: Budget) -> str | None:
    """The URL rule `url` breaks (`url_too_long`, `repeated_segments`, `path_too_deep`), if any."""
    if len(url) > budget.max_url_length:
        return "url_too_long"
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if segments and max(Counter(segments).values()) > budget.max_repeated_segments:
        return "repeated_segments"
    if len(segments) > budget.max_path_segments:
        return "path_too_deep"
    return None


class BlogBudgetMiddleware:
    """Spider middleware enforcing the per-blog `Budget` (see the module docstring)."""

    def __init__(self, crawler: Crawler, budget: Budget) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.budget = budget
        self.blogs: dict[str, _Blog] = {}
        crawler.blogarchive_budget = self  # type: ignore[attr-defined]
        crawler.signals.connect(self._archived, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlogBudgetMiddleware:
        settings = crawler.settings
        if not settings.getbool("BUDGET_ENABLED"):
            raise NotConfigured
        return cls(crawler, Budget.from_settings(settings))

    # -- Scrapy's spider middleware interface --------------------------------------------

    def process_spider_input(self, response: Response) -> None:
        site = request_site(response.request) if response.request is not None else None
        if site is not None:
            self.blogs.setdefault(site, _Blog()).responses += 1

    def _archived(self, item: Any, **_: Any) -> None:
        site = getattr(item, "site", None)
        if site is not None and site in self.blogs:
            self.blogs[site].archived += 1

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in start:
            if self.allow(item):
                yield item

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        for item in result:
            if self.allow(item):
                yield item

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        async for item in result:
            if self.allow(item):
                yield item

    # -- the rules -----------------------------------------------------------------------

    def stopped(self, site: str) -> bool:
        blog = self.blogs.get(site)
        return blog is not None and blog.stopped is not None

    def allow(self, item: Any) -> bool:
        """True to let `item` through: anything but a request of a blog over its budget."""
        if not isinstance(item, Request):
            return True
        site = request_site(item)
        if site is None or item.url.startswith("data:"):
            return True
        blog = self.blogs.setdefault(site, _Blog())
        if blog.stopped is not None:
            self.stats.inc_value("blogarchive/budget/dropped_after_stop")
            return False
        if item.meta.get("hints") is None and not item.dont_filter:
            rule = self._rule(blog, item)
            if rule is not None:
                self._drop(site, blog, item.url, rule)
                return False
        blog.requests += 1
        if blog.requests > self.budget.max_requests:
            self._stop(site, blog, f"BUDGET_MAX_REQUESTS={self.budget.max_requests}")
            return False
        return True

    def _rule(self, blog: _Blog, request: Request) -> str | None:
        """The URL rule a link-followed request breaks, if any."""
        rule = url_rule_broken(request.url, self.budget)
        if rule is not None:
            return rule
        if request.meta.get("depth", 0) > self.budget.max_depth:
            return "too_deep"
        parts = urlsplit(request.url)
        if parts.query:
            names = tuple(sorted({pair.split("=", 1)[0] for pair in parts.query.split("&")}))
            seen = blog.variants.setdefault((parts.path, names), set())
            if parts.query not in seen:
                if len(seen) >= self.budget.max_query_variants:
                    return "query_variants"
                seen.add(parts.query)
        return None

    def _drop(self, site: str, blog: _Blog, url: str, rule: str) -> None:
        blog.dropped[rule] += 1
        self.stats.inc_value(f"blogarchive/budget/{rule}")
        if blog.dropped[rule] == 1:
            limit = {
                "url_too_long": f"BUDGET_MAX_URL_LENGTH={self.budget.max_url_length}",
                "path_too_deep": f"BUDGET_MAX_PATH_SEGMENTS={self.budget.max_path_segments}",
                "repeated_segments": (
                    f"BUDGET_MAX_REPEATED_SEGMENTS={self.budget.max_repeated_segments}"
                ),
                "too_deep": f"BUDGET_MAX_DEPTH={self.budget.max_depth}",
                "query_variants": f"BUDGET_MAX_QUERY_VARIANTS={self.budget.max_query_variants}",
            }[rule]
            logger.warning(
                "budget: %s: not following %s (%s, %s); further URLs of this blog dropped by "
                "this rule are only counted (blogarchive/budget/%s)",
                site, url[:300], rule, limit, rule,
            )  # fmt: skip

    def _stop(self, site: str, blog: _Blog, reason: str) -> None:
        blog.stopped = reason
        blog.variants.clear()
        self.stats.inc_value("blogarchive/budget/stopped_blogs")
        self.stats.set_value(f"blogarchive/budget/stopped/{site}", reason)
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(blog.dropped.items())) or "none"
        logger.warning(
            "budget: stopping %s: %s reached (this blog: %d requests, %d responses, %d records "
            "archived; URLs dropped by rule: %s); the other blogs go on",
            site, reason, blog.requests - 1, blog.responses, blog.archived, dropped,
        )  # fmt: skip

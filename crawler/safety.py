"""Downloader middlewares and an extension for what the open web serves: robots.txt that never
answers, bodies cut off or in an undeclared UTF-16, and slow pages that must not hold back a
small blog's records.

* `RobotsTimeoutMiddleware`: robots.txt (Scrapy's own request and the spider's) gets
  `ROBOTSTXT_TIMEOUT` seconds and no retry; once a host's robots.txt failed, the spider's own
  request for it is not sent again (`robots_txt_unavailable`). Scrapy then crawls the host as
  if robots.txt allowed everything, as it does for any robots.txt it cannot fetch.
* `BodyCheckMiddleware`: a gzip body that ends before its end (a cut-off download) is
  refused as `truncated_gzip` instead of being decoded to a partial page; an HTML body in
  UTF-16 without a BOM or a charset is given its encoding (`utf-16-le`/`-be`).
* `WarmupDeadline` (extension): pages held back for a blog's site profile go out after
  `PROFILE_WARMUP_MAX_WAIT` seconds, even when the crawl is not idle yet (a slow page).
"""

from __future__ import annotations

import logging
import time
import zlib
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response
from twisted.internet import task

from crawler.scope import SkipRequest

logger = logging.getLogger(__name__)


def _is_robots(request: Request) -> bool:
    return urlsplit(request.url).path == "/robots.txt"


class RobotsTimeoutMiddleware:
    def __init__(self, crawler: Crawler, timeout: float) -> None:
        self.crawler = crawler
        self.timeout = timeout
        self.failed: dict[str, str] = {}  # netloc -> why its robots.txt failed

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTimeoutMiddleware:
        timeout = crawler.settings.getfloat("ROBOTSTXT_TIMEOUT")
        if timeout <= 0:
            raise NotConfigured
        return cls(crawler, timeout)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if not _is_robots(request):
            return
        netloc = urlsplit(request.url).netloc
        if netloc in self.failed:
            raise SkipRequest(
                "robots_txt_unavailable",
                f"robots.txt of {netloc} already failed in this crawl ({self.failed[netloc]})",
            )
        request.meta["download_timeout"] = min(
            request.meta.get("download_timeout", self.timeout), self.timeout
        )
        request.meta["dont_retry"] = True

    def process_exception(
        self, request: Request, exception: BaseException, spider: Spider | None = None
    ) -> None:
        if not _is_robots(request) or isinstance(exception, SkipRequest):
            return
        netloc = urlsplit(request.url).netloc
        if netloc not in self.failed:
            self.failed[netloc] = f"{type(exception).__name__}: {exception}"[:200]
            self.crawler.stats.inc_value("blogarchive/robots_txt_failed")
            logger.warning(
                "robots.txt of %s failed within ROBOTSTXT_TIMEOUT=%ss (%s): crawling it as if "
                "robots.txt allowed everything",
                netloc, self.timeout, self.failed[netloc],
            )  # fmt: skip


def gzip_complete(body: bytes) -> bool:
    """False when a gzip stream (all its members) stops before its end."""
    data = body
    try:
        while data:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while data:
                d.decompress(data, 1 << 20)
                data = d.unconsumed_tail
            if not d.eof:
                return False
            data = d.unused_data.lstrip(b"\0")
            if data and not data.startswith(b"\x1f\x8b"):
                return True  # trailing garbage after the last member: gzip ignores it
    except zlib.error:
        return True  # corrupt, not cut off: Scrapy's gunzip reports what it can
    return True


def bomless_utf16(body: bytes) -> str | None:
    """`utf-16-le` or `utf-16-be` for a body that is UTF-16 text without a BOM, else None."""
    head = body[:2000]
    if len(head) < 16 or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.6 and even_nul < 0.1:
        return "utf-16-le"
    if even_nul > 0.6 and odd_nul < 0.1:
        return "utf-16-be"
    return None


class BodyCheckMiddleware:
    """Priority 595: between RedirectMiddleware (600) and HttpCompressionMiddleware (590), so
    `process_response` sees the body before it is decompressed."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BodyCheckMiddleware:
        return cls(crawler)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        encodings = [e.strip().lower() for e in response.headers.getlist("Content-Encoding")]
        gzipped = any(e in (b"gzip", b"x-gzip") for e in encodings)
        if gzipped and response.body and not gzip_complete(response.body):
            self.stats.inc_value("blogarchive/truncated_gzip")
            raise SkipRequest(
                "truncated_gzip",
                f"truncated gzip body ({len(response.body)} bytes received, the stream ends "
                "before its end: the download was cut off)",
            )
        return response


class EncodingCheckMiddleware:
    """Priority 580, after HttpCompressionMiddleware (590) in `process_response`: the body is
    decoded by then. Gives a BOM-less UTF-16 HTML body its encoding."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingCheckMiddleware:
        return cls()

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        declared = response.headers.get(b"Content-Type", b"").lower()
        if b"html" not in declared or b"utf-16" in declared:
            return response
        encoding = bomless_utf16(response.body)
        if encoding is None:
            return response
        logger.info("%s is UTF-16 without a BOM: decoding it as %s", response.url, encoding)
        return response.replace(cls=HtmlResponse, encoding=encoding)


class WarmupDeadline:
    """Extension: see the module docstring."""

    def __init__(self, crawler: Crawler, max_wait: float) -> None:
        self.crawler = crawler
        self.max_wait = max_wait
        self.task: task.LoopingCall | None = None
        self.asked: dict[str, float] = {}  # site -> when its flush was requested
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarmupDeadline:
        max_wait = crawler.settings.getfloat("PROFILE_WARMUP_MAX_WAIT")
        if max_wait <= 0:
            raise NotConfigured
        return cls(crawler, max_wait)

    def opened(self) -> None:
        self.task = task.LoopingCall(self.check)
        self.task.start(min(1.0, self.max_wait / 2), now=False)

    def closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()

    def check(self) -> None:
        spider: Any = self.crawler.spider
        engine = self.crawler.engine
        buffer = getattr(spider, "profile_buffer", None)
        if not buffer or engine is None:
            return
        now = time.time()
        due = []
        for site, held in buffer.items():
            if not held:
                continue
            oldest = held[0][0]["fetched_at"].timestamp()
            if now - oldest >= self.max_wait and now - self.asked.get(site, 0.0) >= 1.0:
                due.append(site)
        for site in due:
            self.asked[site] = now
            logger.info(
                "site profile of %s still warming up after %ss: %d held pages go out now "
                "(PROFILE_WARMUP_MAX_WAIT)",
                site, self.max_wait, len(buffer[site]),
            )  # fmt: skip
            self.crawler.stats.inc_value("blogarchive/profile_warmup_deadline")
        if due:
            engine.crawl(
                Request(
                    "data:,",
                    callback=spider.flush_profiles,
                    dont_filter=True,
                    priority=100,
                    meta={"flush_sites": due},
                )
            )

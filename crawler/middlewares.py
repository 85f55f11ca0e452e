"""Downloader middlewares."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

logger = logging.getLogger(__name__)


class CrawlDelayMiddleware:
    """Honours robots.txt `Crawl-delay`, which Scrapy's RobotsTxtMiddleware parses but ignores.

    On `robots_parsed` it reads the delay for our user agent; every request to that host then
    waits at least that long after the previous one (the download slot's delay, which
    AutoThrottle may raise but this keeps from going lower). `CRAWL_DELAY_MAX` caps absurd values.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get(
            "USER_AGENT"
        )
        self.max_delay = crawler.settings.getfloat("CRAWL_DELAY_MAX", 60.0)
        self.delays: dict[str, float] = {}
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY") or not crawler.settings.getbool(
            "CRAWL_DELAY_ENABLED", True
        ):
            raise NotConfigured
        return cls(crawler)

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        protego = getattr(robotparser, "rp", None)
        if protego is None or not hasattr(protego, "crawl_delay"):
            return
        delay = protego.crawl_delay(self.user_agent)
        if delay:
            netloc = urlsplit(request.url).netloc
            self.delays[netloc] = min(float(delay), self.max_delay)
            logger.info("robots.txt of %s asks for Crawl-delay %ss", netloc, self.delays[netloc])

    def process_request(self, request: Request) -> None:
        self._enforce(request)

    def process_response(self, request: Request, response: Response) -> Response:
        self._enforce(request)  # AutoThrottle lowers delays on response_downloaded
        return response

    def _enforce(self, request: Request) -> None:
        delay = self.delays.get(urlsplit(request.url).netloc)
        if not delay or self.crawler.engine is None:
            return
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:
            _, slot = downloader._get_slot(request)  # creates it, as the downloader would
        if slot.delay * (1 - slot.jitter) < delay:
            slot.delay = max(slot.delay, delay)
            slot.jitter = 0.0  # RANDOMIZE_DOWNLOAD_DELAY would go below the asked delay

"""Extensions: a progress line a person can follow during a long crawl."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector
from twisted.internet import task

logger = logging.getLogger(__name__)


def progress_summary(stats: dict, elapsed: float) -> str:
    """One line: fetched, archived, skipped by reason, errors, pages/s."""
    fetched = stats.get("response_received_count", 0)
    posts = stats.get("blogarchive/archived/post", 0)
    pages = stats.get("blogarchive/archived/page", 0)
    skipped = {
        key.rsplit("/", 1)[1]: value
        for key, value in stats.items()
        if key.startswith("blogarchive/skipped/")
    }
    errors = sum(
        value
        for key, value in stats.items()
        if key.startswith(
            ("blogarchive/errors/", "spider_exceptions/", "downloader/exception_count")
        )
    )
    # requests our own components refused (crawler.scope.SkipRequest) are skips, not errors
    errors -= sum(
        value
        for key, value in stats.items()
        if key.startswith("downloader/exception_type_count/crawler.")
    )
    skipped_text = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())) or "none"
    rate = fetched / elapsed if elapsed > 0 else 0.0
    return (
        f"fetched {fetched} responses ({rate:.1f}/s), archived {posts} posts + {pages} pages, "
        f"listings {stats.get('blogarchive/listings', 0)}, "
        f"skipped {sum(skipped.values())} ({skipped_text}), errors {errors}"
    )


def write_stats_file(crawler: Crawler, reason: str, stats: dict | None = None) -> None:
    """The crawl's stats (or `stats`, when the crawl never got a collector) as JSON to
    `STATS_FILE` (if set), `finish_reason` included; atomic."""
    stats_file = crawler.settings.get("STATS_FILE")
    if not stats_file:
        return
    if stats is None:
        crawler.stats.set_value("finish_reason", reason)
        stats = crawler.stats.get_stats()
    else:
        stats = {**stats, "finish_reason": reason}
    path = Path(stats_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(stats, default=str, indent=1, sort_keys=True))
    tmp.replace(path)


class CrawlProgress:
    """Logs `progress_summary` every `PROGRESS_INTERVAL` seconds (0: never) and once at the
    end; with `STATS_FILE` set, also writes the final stats there as JSON (for monitoring;
    `crawler.commands.crawl` writes it when the crawl could not close, too)."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.stats: StatsCollector = crawler.stats
        self.interval = interval
        self.started = time.monotonic()
        self.task: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL", 30.0)
        if interval <= 0 and not crawler.settings.get("STATS_FILE"):
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        if self.interval > 0:
            self.task = task.LoopingCall(self.log)
            self.task.start(self.interval, now=False)

    def log(self) -> None:
        elapsed = time.monotonic() - self.started
        logger.info("progress: %s", progress_summary(self.stats.get_stats(), elapsed))

    def spider_closed(self, reason: str) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        elapsed = time.monotonic() - self.started
        summary = progress_summary(self.stats.get_stats(), elapsed)
        self.stats.set_value("blogarchive/elapsed_seconds", round(elapsed, 3))
        logger.info("finished (%s): %s", reason, summary)
        write_stats_file(self.crawler, reason)

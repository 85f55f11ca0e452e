"""Item pipelines: every validated record goes into the archive, once."""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DropItem
from scrapy.utils.defer import deferred_from_coro

from archive.store import ArchiveWriteError, ArchiveWriter, RecordRef
from crawler.state import CrawlStateExtension, record_hash
from crawler.urls import url_key
from schemas import PostRecord, Tombstone

logger = logging.getLogger(__name__)


class VersionPipeline:
    """Numbers the versions of a post against the crawl state (`STATE_ENABLED`).

    A record equal to the archived one (same body, title, metadata and comments) is dropped:
    nothing new to archive. A changed one becomes the next version, linked to the previous
    content hash.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> VersionPipeline:
        return cls(crawler)

    def process_item(self, item: object, spider: Spider | None = None) -> object:
        state = CrawlStateExtension.of(self.crawler)
        if state is None or not isinstance(item, PostRecord):
            return item
        known = state.get(item.canonical_url) or state.get(item.url)
        if known is None or known.version == 0:
            return item
        if known.archived and known.record_hash == record_hash(item):
            self.crawler.stats.inc_value("blogarchive/unchanged")
            raise DropItem(f"{item.url}: unchanged since version {known.version}", "DEBUG")
        self.crawler.stats.inc_value("blogarchive/changed")
        logger.info("%s changed: archiving version %d", item.url, known.version + 1)
        return item.model_copy(
            update={"version": known.version + 1, "previous_hash": known.content_hash}
        )


class ArchivePipeline:
    """Writes each PostRecord to the JSONL archive under `ARCHIVE_DIR`.

    A record whose canonical URL was already written in this crawl is dropped. A write that
    fails (disk full, permissions) stops the crawl with the reason: nothing half-written stays.

    The crawl state learns of a record only once it is in the file: with `ARCHIVE_COMPRESS`
    a record waits in the writer's gzip batch until the batch is written, and a crawl killed
    before that must archive the record again when resumed, not think it has it.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.directory = Path(settings.get("ARCHIVE_DIR", "archive-data"))
        self.writer_id = settings.get("ARCHIVE_WRITER_ID", "main")
        self.compress = settings.getbool("ARCHIVE_COMPRESS", False)
        self.fsync_every = settings.getint("ARCHIVE_FSYNC_EVERY", 50)
        self.writer: ArchiveWriter | None = None
        self.written: set[str] = set()
        self.failed = False
        #: written to the writer, but still in its gzip batch: not yet told to the crawl state
        self.unflushed: list[tuple[PostRecord | Tombstone, RecordRef]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        try:
            self.writer = ArchiveWriter(
                self.directory,
                writer_id=self.writer_id,
                compress=self.compress,
                fsync_every=self.fsync_every,
            )
        except ArchiveWriteError as exc:
            self._failed(exc)
            raise CloseSpider("archive_write_error") from exc
        logger.info("archiving into %s", self.directory.resolve())

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.writer is None:
            return
        try:
            self.writer.close()
        except ArchiveWriteError as exc:
            self._failed(exc)
            return
        self._record_flushed()

    def _failed(self, exc: ArchiveWriteError) -> None:
        """Log the first write failure (one CRITICAL line naming the path and the reason)."""
        self.unflushed.clear()  # the batch may be lost: the state must not count on it
        if self.failed:
            return
        self.failed = True
        logger.critical("cannot write the archive: %s; stopping the crawl", exc)
        self.crawler.stats.inc_value("blogarchive/errors/archive_write")

    def _record_flushed(self) -> None:
        """Tell the crawl state about the records that are in the file now."""
        if not self.unflushed or self.writer is None or self.writer.pending:
            return
        if (state := CrawlStateExtension.of(self.crawler)) is not None:
            for record, ref in self.unflushed:
                state.record_written(record, ref)
        self.unflushed.clear()

    def process_item(self, item: object, spider: Spider | None = None) -> object:
        if not isinstance(item, PostRecord | Tombstone):
            return item
        key = url_key(item.canonical_url)
        if key in self.written:
            raise DropItem(f"{item.url}: canonical URL {item.canonical_url} already archived")
        if self.failed or self.writer is None:
            raise DropItem(f"{item.url}: not archived: the archive cannot be written")
        try:
            ref = self.writer.write(item)
        except ArchiveWriteError as exc:
            self._failed(exc)
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_write_error"))
            raise DropItem(f"{item.url}: not archived: {exc}") from exc
        self.written.add(key)
        self.unflushed.append((item, ref))
        self._record_flushed()
        if isinstance(item, Tombstone):
            self.crawler.stats.inc_value("blogarchive/archived/tombstone")
            logger.info("archived tombstone of %s (HTTP %d)", item.url, item.status)
            return item
        self.crawler.stats.inc_value(f"blogarchive/archived/{item.kind}")
        logger.debug("archived %s %s", item.kind, item.url)
        return item

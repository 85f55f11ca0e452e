"""Crawl state beside the archive: what each URL looked like when the crawl last saw it.

An embedded SQLite file (`ARCHIVE_DIR/state.sqlite` unless `STATE_PATH` says otherwise): per
URL the HTTP validators, the sitemap `lastmod` and feed date last seen, the record's hashes and
version, and when it was last fetched, changed and listed. The archive stays the source of
truth: on open, records the state has not seen yet (a crawl killed between writing a record and
updating the state) are replayed from the archive files, so a resumed crawl writes no duplicate.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from archive.store import iter_with_refs
from crawler.urls import url_key
from schemas import PostRecord, Tombstone

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    canonical_url TEXT,
    site TEXT,
    kind TEXT,
    etag TEXT,
    last_modified TEXT,
    lastmod TEXT,
    feed_date TEXT,
    content_hash TEXT,
    record_hash TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    first_seen REAL,
    last_fetched REAL,
    last_changed REAL,
    last_listed REAL
);
CREATE INDEX IF NOT EXISTS urls_site ON urls(site);
CREATE TABLE IF NOT EXISTS synced (file TEXT PRIMARY KEY, lines INTEGER NOT NULL);
"""


def record_hash(record: PostRecord) -> str:
    """What counts as a change: body, title, metadata and comments (not fetch details)."""
    significant = record.model_dump(
        mode="json",
        include={
            "kind", "title", "authors", "published", "updated", "categories", "tags",
            "language", "description", "text", "comments", "comments_status",
        },
    )  # fmt: skip
    return (
        "sha256:"
        + hashlib.sha256(orjson.dumps(significant, option=orjson.OPT_SORT_KEYS)).hexdigest()
    )


@dataclass
class UrlState:
    key: str
    url: str
    canonical_url: str | None
    site: str | None
    kind: str | None
    etag: str | None
    last_modified: str | None
    lastmod: str | None
    feed_date: str | None
    content_hash: str | None
    record_hash: str | None
    version: int
    deleted: bool
    first_seen: float | None
    last_fetched: float | None
    last_changed: float | None
    last_listed: float | None

    @property
    def archived(self) -> bool:
        return self.version > 0 and not self.deleted


class CrawlState:
    """The SQLite state; used from the crawl process only (one connection, no threads)."""

    def __init__(self, path: str | Path, archive_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._pending = 0
        self.db.execute("BEGIN")
        if archive_dir is not None:
            self.replay(Path(archive_dir))

    # -- reading -------------------------------------------------------------------------

    def get(self, url: str) -> UrlState | None:
        row = self.db.execute("SELECT * FROM urls WHERE key = ?", (url_key(url),)).fetchone()
        if row is None:
            return None
        values = dict(row)
        values["deleted"] = bool(values["deleted"])
        return UrlState(**values)

    def known_urls(self, site: str) -> list[UrlState]:
        rows = self.db.execute("SELECT * FROM urls WHERE site = ?", (site,)).fetchall()
        return [UrlState(**{**dict(r), "deleted": bool(r["deleted"])}) for r in rows]

    # -- writing -------------------------------------------------------------------------

    def _upsert(self, url: str, **fields: Any) -> None:
        """Insert the URL's row or update the given fields of it, in one statement."""
        names = ", ".join(fields)
        marks = ", ".join("?" * len(fields))
        update = ", ".join(f"{name} = excluded.{name}" for name in fields) or "key = key"
        self.db.execute(
            f"INSERT INTO urls (key, url, first_seen{', ' if fields else ''}{names}) "  # noqa: S608
            f"VALUES (?, ?, ?{', ' if fields else ''}{marks}) "
            f"ON CONFLICT(key) DO UPDATE SET {update}",
            (url_key(url), url, time.time(), *fields.values()),
        )
        self._tick()

    def listed(self, url: str, *, site: str, lastmod: str | None, feed_date: str | None) -> None:
        """Discovery (sitemap, feed) named this URL in this crawl."""
        fields: dict[str, Any] = {"site": site, "last_listed": time.time()}
        if lastmod:
            fields["lastmod"] = lastmod
        if feed_date:
            fields["feed_date"] = feed_date
        self._upsert(url, **fields)

    def listing_seen(self, url: str, *, site: str) -> None:
        """A listing page (never archived): re-crawls re-check it on the same schedule."""
        self._upsert(url, site=site, kind="listing")

    def fetched(self, url: str, *, etag: str | None, last_modified: str | None) -> None:
        self._upsert(url, last_fetched=time.time(), etag=etag, last_modified=last_modified)

    def record_written(self, record: PostRecord | Tombstone, ref: Any = None) -> None:
        """Remember the archive's newest record of a URL (its URL and canonical URL)."""
        now = time.time()
        if isinstance(record, Tombstone):
            fields: dict[str, Any] = {"deleted": 1, "version": record.version, "last_changed": now}
        else:
            fields = {
                "canonical_url": record.canonical_url,
                "site": record.site,
                "kind": record.kind,
                "content_hash": record.content_hash,
                "record_hash": record_hash(record),
                "version": record.version,
                "deleted": 0,
                "last_changed": now,
                "last_fetched": now,
            }
        for url in {record.url, record.canonical_url}:
            self._upsert(url, **fields)
        if ref is not None:
            self.db.execute(
                "INSERT INTO synced (file, lines) VALUES (?, ?) ON CONFLICT(file) DO UPDATE "
                "SET lines = max(lines, excluded.lines)",
                (str(ref.file), ref.line),
            )

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= 200:
            self.commit()

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")
        self._pending = 0

    def close(self) -> None:
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:  # disk full, read-only: the archive stays the truth
            logger.error(
                "crawl state: cannot save %s (%s); the next crawl replays it from the archive",
                self.path,
                exc,
            )
        finally:
            self.db.close()

    # -- recovery ------------------------------------------------------------------------

    def replay(self, archive_dir: Path) -> int:
        """Apply archive records the state has not seen (written just before a crash)."""
        synced = {row["file"]: row["lines"] for row in self.db.execute("SELECT * FROM synced")}
        replayed = 0
        if not (archive_dir / "records").exists():
            return 0
        for ref, record in iter_with_refs(archive_dir):
            if ref.line <= synced.get(str(ref.file), 0):
                continue
            current = self.get(record.canonical_url)
            if current is None or record.version >= current.version:
                self.record_written(record, ref)
                replayed += 1
        if replayed:
            logger.info("state: replayed %d archive records written after the last sync", replayed)
        self.commit()
        return replayed


def recheck_due(
    state: UrlState, now: float, *, factor: float, minimum: float, maximum: float
) -> bool:
    """Re-check old, unchanged posts less often than fresh ones: the wait grows with the time
    since the post last changed (`factor` of it), between `minimum` and `maximum` seconds."""
    if state.last_fetched is None:
        return True
    age = now - (state.last_changed or state.first_seen or now)
    wait = min(max(age * factor, minimum), maximum)
    return now - state.last_fetched >= wait


class CrawlStateExtension:
    """Opens the crawl state for the spider and pipelines (`STATE_ENABLED`), closes it at the end.

    Find it with `CrawlStateExtension.of(crawler)`.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        archive_dir = Path(settings.get("ARCHIVE_DIR", "archive-data"))
        writer = settings.get("ARCHIVE_WRITER_ID", "main")
        self.path = Path(settings.get("STATE_PATH") or archive_dir / f"state-{writer}.sqlite")
        self.archive_dir = archive_dir
        self.crawler = crawler
        self.state: CrawlState | None = None
        self.failed = False  # the state could not be opened: the crawl is being stopped
        crawler.signals.connect(self.open, signal=signals.engine_started)
        crawler.signals.connect(self.close, signal=signals.spider_closed)
        crawler.blogarchive_state = self  # type: ignore[attr-defined]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlStateExtension:
        if not crawler.settings.getbool("STATE_ENABLED", True):
            raise NotConfigured
        return cls(crawler)

    @staticmethod
    def of(crawler: Crawler) -> CrawlState | None:
        ext = getattr(crawler, "blogarchive_state", None)
        if ext is None:
            return None
        if ext.state is None:
            ext.open()
        return ext.state

    def open(self) -> None:
        if self.state is None and not self.failed:
            try:
                self.state = CrawlState(self.path, self.archive_dir)
            except (sqlite3.Error, OSError) as exc:  # read-only or full disk
                self.failed = True
                logger.critical(
                    "cannot open the crawl state %s: %s; stopping the crawl", self.path, exc
                )
                self.crawler.stats.inc_value("blogarchive/errors/state")
                if self.crawler.engine is not None and self.crawler.engine.spider is not None:
                    deferred_from_coro(self.crawler.engine.close_spider_async(reason="state_error"))
                return
            logger.info("crawl state: %s", self.path)

    def close(self) -> None:
        if self.state is not None:
            self.state.close()
            self.state = None

"""Crawl state beside the archive: what each URL looked like when the crawl last saw it.

An embedded SQLite file (`ARCHIVE_DIR/state.sqlite` unless `STATE_PATH` says otherwise): per
URL the HTTP validators, the sitemap `lastmod` and feed date last seen, the record's hashes and
version, and when it was last fetched, changed and listed. The archive stays the source of
truth: on open, records the state has not seen yet (a crawl killed between writing a record and
updating the state) are replayed from the archive files, so a resumed crawl writes no duplicate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
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

from archive.store import archive_files, iter_with_refs
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
CREATE TABLE IF NOT EXISTS files (file TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER);
"""

_SYNCED_UPSERT = (
    "INSERT INTO synced (file, lines) VALUES (?, ?) ON CONFLICT(file) DO UPDATE "
    "SET lines = max(lines, excluded.lines)"
)


@functools.cache
def _upsert_sql(names: tuple[str, ...]) -> str:
    """The statement that inserts a row (key, url, first_seen and `names`) or, when the key is
    there already, updates only the `names` columns of it."""
    columns = "".join(f", {name}" for name in names)
    marks = ", ?" * len(names)
    update = ", ".join(f"{name} = excluded.{name}" for name in names) or "key = key"
    return (
        f"INSERT INTO urls (key, url, first_seen{columns}) VALUES (?, ?, ?{marks}) "  # noqa: S608
        f"ON CONFLICT(key) DO UPDATE SET {update}"
    )


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


#: a `urls` row as the schema's defaults make it (`deleted` as stored: 0 or 1)
_ROW_DEFAULTS: dict[str, Any] = {
    **{field.name: None for field in dataclasses.fields(UrlState)},
    "version": 0,
    "deleted": 0,
}

#: an upsert not yet in SQLite: the url and first_seen of its first write, the fields written
_PendingRow = tuple[str, float, dict[str, Any]]


class CrawlState:
    """The SQLite state; used from the crawl process only (one connection, no threads).

    Writes are batched until commit: `listed`, `listing_seen`, `fetched` and `record_written`
    only update pending rows in memory (merged per URL key), which are applied to SQLite in
    bulk and committed every `batch_size` writes and by `commit()`, `close()` and `replay()`.
    `get()` and `known_urls()` see the pending writes; queries on `db` itself see them only
    once they are applied (`commit()`).
    A crash loses the writes since the last commit, as an open transaction would: the archive
    stays the truth and `replay()` repairs the state from it.
    """

    def __init__(
        self, path: str | Path, archive_dir: str | Path | None = None, *, batch_size: int = 200
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.path = Path(path)
        self.batch_size = batch_size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        check = self.db.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {check[0] if check else 'no answer'}")
        self.db.executescript(_SCHEMA)
        self._writes = 0  # upserts since the last commit
        self._rows: dict[str, _PendingRow] = {}  # url_key -> upserts not yet in SQLite
        self._synced: dict[str, int] = {}  # archive file -> highest line not yet in SQLite
        self.db.execute("BEGIN")
        self.archive_dir = Path(archive_dir) if archive_dir is not None else None
        if self.archive_dir is not None:
            if self.archive_changed():
                self.reconcile(self.archive_dir)
            else:
                self.replay(self.archive_dir)
            self.note_files()

    # -- reading -------------------------------------------------------------------------

    def get(self, url: str) -> UrlState | None:
        """The URL's state, pending writes included (None when it was never written)."""
        key = url_key(url)
        row = self.db.execute("SELECT * FROM urls WHERE key = ?", (key,)).fetchone()
        pending = self._rows.get(key)
        if row is not None:
            values = dict(row)
            if pending is not None:
                values.update(pending[2])
        elif pending is not None:
            pending_url, first_seen, fields = pending
            values = {
                **_ROW_DEFAULTS,
                "key": key,
                "url": pending_url,
                "first_seen": first_seen,
                **fields,
            }
        else:
            return None
        values["deleted"] = bool(values["deleted"])
        return UrlState(**values)

    def known_urls(self, site: str) -> list[UrlState]:
        self._flush()
        rows = self.db.execute("SELECT * FROM urls WHERE site = ?", (site,)).fetchall()
        return [UrlState(**{**dict(r), "deleted": bool(r["deleted"])}) for r in rows]

    # -- writing -------------------------------------------------------------------------

    def _upsert(self, url: str, **fields: Any) -> None:
        """Insert the URL's row or update the given fields of it (pending until the commit).

        A new key gets `url` and `first_seen` now; an existing one keeps its own. Writes to
        a key that is pending already merge into its pending row.
        """
        key = url_key(url)
        pending = self._rows.get(key)
        if pending is None:
            self._rows[key] = (url, time.time(), fields)  # `fields` is this call's own dict
        else:
            pending[2].update(fields)
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
            file = str(ref.file)
            self._synced[file] = max(self._synced.get(file, ref.line), ref.line)

    def _tick(self) -> None:
        self._writes += 1
        if self._writes >= self.batch_size:
            self.commit()

    def _flush(self) -> None:
        """Apply the pending writes to the open transaction (one `executemany` per set of
        columns written). Kept pending if this fails: applying them again changes nothing."""
        if self._rows:
            groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
            for key, (url, first_seen, fields) in self._rows.items():
                row = (key, url, first_seen, *fields.values())
                groups.setdefault(tuple(fields), []).append(row)
            for names, rows in groups.items():
                self.db.executemany(_upsert_sql(names), rows)
            self._rows.clear()
        if self._synced:
            self.db.executemany(_SYNCED_UPSERT, list(self._synced.items()))
            self._synced.clear()

    def commit(self) -> None:
        """Write the pending writes and commit them."""
        self._flush()
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")
        self._writes = 0

    def close(self) -> None:
        try:
            if self.archive_dir is not None:
                self.note_files()
            self._flush()
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

    def _file_signatures(self) -> dict[str, tuple[int, int]]:
        assert self.archive_dir is not None
        found = {}
        for path in archive_files(self.archive_dir):
            with contextlib.suppress(OSError):
                st = path.stat()
                found[str(path.relative_to(self.archive_dir))] = (st.st_size, st.st_mtime_ns)
        return found

    def note_files(self) -> None:
        """Remember size and mtime of every archive file, to see on open what changed."""
        self.db.execute("DELETE FROM files")
        self.db.executemany(
            "INSERT INTO files (file, size, mtime_ns) VALUES (?, ?, ?)",
            [(f, size, mtime) for f, (size, mtime) in self._file_signatures().items()],
        )

    def archive_changed(self) -> bool:
        """True when an archive file the state has seen is gone or not as it was left (deleted,
        corrupted, an older backup restored, another writer appended), or when the state knows
        archived URLs but no file (a state from before this check)."""
        stored = {
            row["file"]: (row["size"], row["mtime_ns"])
            for row in self.db.execute("SELECT * FROM files")
        }
        if not stored:
            return (
                self.db.execute("SELECT 1 FROM urls WHERE version > 0 LIMIT 1").fetchone()
                is not None
            )
        current = self._file_signatures()
        return any(current.get(f) != sig for f, sig in stored.items())

    def reconcile(self, archive_dir: Path) -> int:
        """Make the state agree with the archive, the source of truth: every URL gets the
        archive's newest record; a URL the state has as archived but the archive has not (or
        at a lower version) is forgotten down to what the archive has, with its validators
        and fetch time, so the crawl fetches it and writes it again. Returns how many URLs
        diverged."""
        self._flush()
        truth, lines = archive_truth(archive_dir)
        diverged: list[str] = []
        rows = self.db.execute("SELECT key, url, version, deleted, record_hash FROM urls")
        for row in rows.fetchall():
            have = truth.get(row["key"])
            if have is None:
                if row["version"] > 0:
                    diverged.append(row["url"])
                    self._upsert(
                        row["url"], version=0, deleted=0, content_hash=None, record_hash=None,
                        etag=None, last_modified=None, last_fetched=None,
                    )  # fmt: skip
                continue
            record = have[2]
            same = row["version"] == record.version and bool(row["deleted"]) == record.deleted
            if same and (record.deleted or row["record_hash"] == record_hash(record)):
                continue
            if row["version"] > record.version or (row["version"] == record.version and not same):
                diverged.append(row["url"])
                self.record_written(record)
                self._upsert(row["url"], etag=None, last_modified=None, last_fetched=None)
            else:
                self.record_written(record)  # the archive is ahead: a crash before the sync
        known = {r["key"] for r in self.db.execute("SELECT key FROM urls").fetchall()}
        for key, (_, _, record) in truth.items():
            if key not in known and key not in self._rows:
                self.record_written(record)
        self.db.execute("DELETE FROM synced")
        self._synced.update(lines)
        if diverged:
            logger.warning(
                "state: %d URLs the crawl state has as archived are missing from the archive "
                "%s or older there (a deleted, damaged or restored file): they will be fetched "
                "and written again; first: %s",
                len(diverged), archive_dir, ", ".join(diverged[:5]),
            )  # fmt: skip
        else:
            logger.info("state: reconciled with the archive %s: no divergence", archive_dir)
        self.commit()
        return len(diverged)

    def replay(self, archive_dir: Path) -> int:
        """Apply archive records the state has not seen (written just before a crash)."""
        self._flush()
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


def archive_truth(
    archive_dir: Path,
) -> tuple[dict[str, tuple[int, int, PostRecord | Tombstone]], dict[str, int]]:
    """The archive's newest record per URL key (its URL and canonical URL) as (version,
    order, record), and the last line of each file."""
    truth: dict[str, tuple[int, int, PostRecord | Tombstone]] = {}
    lines: dict[str, int] = {}
    if not (archive_dir / "records").exists():
        return truth, lines
    for order, (ref, record) in enumerate(iter_with_refs(archive_dir)):
        lines[str(ref.file)] = max(lines.get(str(ref.file), 0), ref.line)
        for url in {record.url, record.canonical_url}:
            key = url_key(url)
            have = truth.get(key)
            if have is None or (record.version, order) >= have[:2]:
                truth[key] = (record.version, order, record)
    return truth, lines


def state_divergence(state_path: Path, archive_dir: Path) -> list[str]:
    """What a crawl state (read only) has as archived that the archive has not: one line per
    URL, e.g. `https://x/post/: state has version 3, the archive none`."""
    truth, _ = archive_truth(archive_dir)
    db = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT key, url, version, deleted FROM urls WHERE version > 0")
        found = []
        for key, url, version, deleted in rows:
            have = truth.get(key)
            if have is None:
                found.append(f"{url}: state has version {version}, the archive none")
            elif have[0] < version or (have[0] == version and have[2].deleted != bool(deleted)):
                kind = "tombstone" if deleted else "record"
                found.append(
                    f"{url}: state has version {version} ({kind}), the archive version {have[0]}"
                )
        return found
    finally:
        db.close()


def is_damaged(exc: sqlite3.DatabaseError) -> bool:
    """A database file that is not one, or is corrupt (not a read-only or full disk)."""
    text = str(exc).lower()
    return not isinstance(exc, sqlite3.OperationalError) or "malformed" in text


def move_aside(path: Path, why: str) -> Path:
    """Rename a damaged file to `<name>.damaged-<UTC time>` with a WARNING naming both."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    path.rename(aside)
    logger.warning("%s: %s; moved aside to %s and rebuilt", path, why, aside)
    return aside


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
                try:
                    self.state = CrawlState(self.path, self.archive_dir)
                except sqlite3.DatabaseError as exc:
                    if not is_damaged(exc):
                        raise
                    aside = move_aside(self.path, f"damaged crawl state ({exc})")
                    for suffix in ("-wal", "-shm"):
                        extra = self.path.with_name(self.path.name + suffix)
                        if extra.exists():
                            extra.rename(aside.with_name(aside.name + suffix))
                    self.crawler.stats.inc_value("blogarchive/damaged_files/state")
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

"""CrawlState's write-behind batching: pending writes are merged in memory and applied in bulk
at the commit, with the same results as one upsert statement per call."""

from __future__ import annotations

import logging
import random
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from archive.store import ArchiveWriter, RecordRef
from crawler import state as state_module
from crawler.state import CrawlState, UrlState, record_hash
from crawler.urls import url_key
from schemas import Extractor, PostRecord, Tombstone, content_hash

SITE = "http://blog.example/"
OTHER_SITE = "http://other.example/"
WHEN = datetime(2026, 11, 24, tzinfo=timezone.utc)


class Clock:
    """Stands in for the `time` module of crawler.state: `time()` answers `now`."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(state_module, "time", fake)
    return fake


def post(
    url: str, canonical: str | None = None, *, version: int = 1, text: str = "Ein Absatz."
) -> PostRecord:
    return PostRecord(
        url=url,
        canonical_url=canonical or url,
        site=SITE,
        kind="post",
        title="Titel",
        text=text,
        markdown=text,
        word_count=len(text.split()),
        content_hash=content_hash(text),
        fetched_at=WHEN,
        status=200,
        extractor=Extractor(name="blogarchive", version="test"),
        version=version,
    )


def tombstone(url: str, canonical: str | None = None, *, version: int = 2) -> Tombstone:
    return Tombstone(
        url=url,
        canonical_url=canonical or url,
        site=SITE,
        kind="post",
        deleted_at=WHEN,
        status=410,
        version=version,
    )


def table(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows as committed in the file (a connection of its own)."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def urls_table(path: Path) -> list[tuple[Any, ...]]:
    return table(path, "SELECT * FROM urls ORDER BY key")


def synced_table(path: Path) -> list[tuple[Any, ...]]:
    return table(path, "SELECT * FROM synced ORDER BY file")


class SequentialState(CrawlState):
    """The reference: the upsert of the unbatched CrawlState, one statement per call."""

    def _upsert(self, url: str, **fields: Any) -> None:
        names = ", ".join(fields)
        marks = ", ".join("?" * len(fields))
        update = ", ".join(f"{name} = excluded.{name}" for name in fields) or "key = key"
        self.db.execute(
            f"INSERT INTO urls (key, url, first_seen{', ' if fields else ''}{names}) "
            f"VALUES (?, ?, ?{', ' if fields else ''}{marks}) "
            f"ON CONFLICT(key) DO UPDATE SET {update}",
            (url_key(url), url, state_module.time.time(), *fields.values()),
        )
        self._tick()


# -- equivalence -----------------------------------------------------------------------------


def url_variants(path: str) -> list[str]:
    """Spellings of one URL that share its key (the first one written is the row's `url`)."""
    return [
        f"http://blog.example/{path}/",
        f"http://www.blog.example/{path}",
        f"http://blog.example/{path}?utm_source=feed",
    ]


def random_operations(seed: int, steps: int) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    paths = [f"2024/{month:02d}/post-{n}" for month in (1, 2, 3) for n in range(5)]
    listings = [f"http://blog.example/page/{n}/" for n in range(2, 6)]
    files = ["records/main/a.jsonl", "records/main/b.jsonl", "records/main/c.jsonl.gz"]

    def any_url() -> str:
        if rng.random() < 0.1:
            return rng.choice(listings)
        return rng.choice(url_variants(rng.choice(paths)))

    def maybe(value: str) -> str | None:
        return value if rng.random() < 0.6 else None

    ops: list[tuple[Any, ...]] = []
    for _ in range(steps):
        roll = rng.random()
        if roll < 0.25:
            ops.append(
                (
                    "listed",
                    any_url(),
                    rng.choice([SITE, OTHER_SITE]),
                    maybe(f"2024-0{rng.randint(1, 9)}-01"),
                    maybe(f"2024-0{rng.randint(1, 9)}-02T00:00:00Z"),
                )
            )
        elif roll < 0.32:
            ops.append(("listing_seen", rng.choice(listings), SITE))
        elif roll < 0.55:
            ops.append(("fetched", any_url(), maybe(f'"etag-{rng.randint(0, 99)}"'), maybe("x")))
        elif roll < 0.70:
            path = rng.choice(paths)
            url = rng.choice(url_variants(path))
            canonical = rng.choice([url, f"http://blog.example/{path}/", f"{SITE}?p={path[-1]}"])
            version = rng.randint(1, 6)
            if version >= 2 and rng.random() < 0.2:
                record: PostRecord | Tombstone = tombstone(url, canonical, version=version)
            else:
                record = post(url, canonical, version=version, text=f"Text {rng.randint(0, 3)}.")
            ref = RecordRef(rng.choice(files), rng.randint(1, 500)) if rng.random() < 0.8 else None
            ops.append(("record_written", record, ref))
        elif roll < 0.97:
            ops.append(("get", any_url()))
        elif roll < 0.985:
            ops.append(("known_urls", rng.choice([SITE, OTHER_SITE])))
        else:
            ops.append(("commit",))
    return ops


def apply(state: CrawlState, op: tuple[Any, ...]) -> Any:
    name, *args = op
    if name == "listed":
        url, site, lastmod, feed_date = args
        return state.listed(url, site=site, lastmod=lastmod, feed_date=feed_date)
    if name == "listing_seen":
        url, site = args
        return state.listing_seen(url, site=site)
    if name == "fetched":
        url, etag, last_modified = args
        return state.fetched(url, etag=etag, last_modified=last_modified)
    if name == "record_written":
        record, ref = args
        return state.record_written(record, ref)
    if name == "get":
        return state.get(args[0])
    if name == "known_urls":
        return sorted(state.known_urls(args[0]), key=lambda known: known.key)
    assert name == "commit"
    return state.commit()


def assert_deleted_is_bool(result: Any) -> None:
    for known in result if isinstance(result, list) else [result]:
        if isinstance(known, UrlState):
            assert type(known.deleted) is bool


@pytest.mark.parametrize("batch_size", [1, 7, 200])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batched_writes_match_one_upsert_per_call(
    tmp_path: Path, clock: Clock, seed: int, batch_size: int
) -> None:
    """Random listed/listing_seen/fetched/record_written calls with get() and known_urls()
    between them: every answer and the final tables are those of the unbatched state."""
    batched = CrawlState(tmp_path / "batched.sqlite", batch_size=batch_size)
    reference = SequentialState(tmp_path / "reference.sqlite", batch_size=1)
    answers = 0
    for step, op in enumerate(random_operations(seed, 900)):
        clock.now = 1_000_000.0 + step  # both states see the same time at each step
        got, expected = apply(batched, op), apply(reference, op)
        assert got == expected, (step, op)
        assert_deleted_is_bool(got)
        answers += got is not None and got != []
    batched.close()
    reference.close()

    assert answers > 100  # the gets found rows, pending ones and committed ones
    rows = urls_table(tmp_path / "batched.sqlite")
    assert rows == urls_table(tmp_path / "reference.sqlite")
    assert len(rows) > 15
    synced = synced_table(tmp_path / "batched.sqlite")
    assert synced == synced_table(tmp_path / "reference.sqlite")
    assert len(synced) == 3


# -- get() sees pending writes ---------------------------------------------------------------


def test_get_sees_a_pending_new_url_before_any_commit(tmp_path: Path, clock: Clock) -> None:
    state = CrawlState(tmp_path / "state.sqlite")
    url = "http://www.blog.example/2024/01/neu"
    clock.now = 100.0
    state.fetched(url, etag='"e1"', last_modified=None)
    clock.now = 200.0
    state.listed(
        "http://blog.example/2024/01/neu/", site=SITE, lastmod="2024-01-01", feed_date=None
    )

    assert state.db.execute("SELECT count(*) FROM urls").fetchone()[0] == 0  # still pending
    known = state.get("http://blog.example/2024/01/neu?utm_medium=rss")
    assert known == UrlState(
        key=url_key(url),
        url=url,  # the first spelling written, as the insert of the first upsert keeps it
        canonical_url=None,
        site=SITE,
        kind=None,
        etag='"e1"',
        last_modified=None,
        lastmod="2024-01-01",
        feed_date=None,
        content_hash=None,
        record_hash=None,
        version=0,
        deleted=False,
        first_seen=100.0,
        last_fetched=100.0,
        last_changed=None,
        last_listed=200.0,
    )
    assert type(known.deleted) is bool
    assert state.get("http://blog.example/2024/01/other/") is None
    state.close()


def test_get_overlays_pending_fields_on_the_committed_row(tmp_path: Path, clock: Clock) -> None:
    state = CrawlState(tmp_path / "state.sqlite")
    url = "http://blog.example/2024/02/alt/"
    clock.now = 100.0
    state.listed(url, site=SITE, lastmod="2024-02-01", feed_date="2024-02-02")
    state.commit()

    clock.now = 300.0
    record = post("http://www.blog.example/2024/02/alt", version=3)
    state.record_written(record)
    assert state.db.execute("SELECT version FROM urls").fetchone()[0] == 0  # still pending
    known = state.get(url)
    assert known is not None
    assert (known.url, known.first_seen) == (url, 100.0)  # the row's own, not the pending one
    assert (known.lastmod, known.feed_date, known.last_listed) == ("2024-02-01", "2024-02-02", 100)
    assert (known.version, known.record_hash, known.content_hash) == (
        3,
        record_hash(record),
        record.content_hash,
    )
    assert (known.last_changed, known.last_fetched) == (300.0, 300.0)
    assert known.archived and known.deleted is False

    state.commit()
    clock.now = 400.0
    state.record_written(tombstone(url, version=4))
    gone = state.get(url)
    assert gone is not None
    assert gone.deleted is True and not gone.archived and gone.version == 4
    assert gone.record_hash == record_hash(record)  # a tombstone leaves the hashes
    state.close()


def test_known_urls_include_pending_writes(tmp_path: Path, clock: Clock) -> None:
    state = CrawlState(tmp_path / "state.sqlite")
    state.listed("http://blog.example/a/", site=SITE, lastmod=None, feed_date=None)
    state.listing_seen("http://blog.example/page/2/", site=SITE)
    state.listed("http://other.example/b/", site=OTHER_SITE, lastmod=None, feed_date=None)
    assert sorted(known.url for known in state.known_urls(SITE)) == [
        "http://blog.example/a/",
        "http://blog.example/page/2/",
    ]
    state.close()


# -- durability ------------------------------------------------------------------------------


def test_close_writes_everything_pending(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "state.sqlite"
    state = CrawlState(path)
    urls = [f"http://blog.example/2024/03/p{n}/" for n in range(30)]
    for n, url in enumerate(urls):
        clock.now = 1000.0 + n
        state.listed(url, site=SITE, lastmod=f"2024-03-{n + 1:02d}", feed_date=None)
        state.fetched(url, etag=f'"{n}"', last_modified=None)
        if n % 3 == 0:
            state.record_written(post(url), RecordRef("records/main/x.jsonl", n + 1))
    assert state.db.execute("SELECT count(*) FROM urls").fetchone()[0] == 0  # 70 < 200 writes
    before = [state.get(url) for url in urls]
    state.close()

    assert len(urls_table(path)) == 30
    assert synced_table(path) == [("records/main/x.jsonl", 28)]
    reopened = CrawlState(path)
    assert [reopened.get(url) for url in urls] == before
    reopened.close()


def test_a_full_batch_is_committed_without_asking(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "state.sqlite"
    state = CrawlState(path, batch_size=10)
    for n in range(25):
        state.fetched(f"http://blog.example/p{n}/", etag=None, last_modified=None)
    assert len(urls_table(path)) == 20  # two batches committed, 5 writes pending
    state.close()
    assert len(urls_table(path)) == 25


def test_a_failed_flush_at_close_is_logged_not_raised(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.sqlite"
    state = CrawlState(path)
    state.fetched("http://blog.example/ok/", etag=None, last_modified=None)
    state.commit()
    state._upsert("http://blog.example/bad/", version=None)  # NOT NULL: fails at the flush
    with caplog.at_level(logging.ERROR, logger="crawler.state"):
        state.close()
    assert "cannot save" in caplog.text and "NOT NULL" in caplog.text
    assert [row[0] for row in urls_table(path)] == [url_key("http://blog.example/ok/")]


def test_batch_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        CrawlState(tmp_path / "state.sqlite", batch_size=0)


# -- synced ----------------------------------------------------------------------------------


def test_synced_keeps_the_highest_line_per_file(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "state.sqlite"
    state = CrawlState(path)
    a, b = "records/main/a.jsonl", "records/main/b.jsonl"
    for n, (file, line) in enumerate([(a, 5), (a, 3), (b, 2), (a, 9), (a, 7)]):
        state.record_written(post(f"http://blog.example/s{n}/"), RecordRef(file, line))
    state.record_written(post("http://blog.example/no-ref/"))  # no ref: no line
    assert synced_table(path) == []  # pending until the commit
    state.commit()
    assert synced_table(path) == [(a, 9), (b, 2)]

    state.record_written(post("http://blog.example/s5/"), RecordRef(a, 4))  # below the committed
    state.record_written(post("http://blog.example/s6/"), RecordRef(b, 12))
    state.close()
    assert synced_table(path) == [(a, 9), (b, 12)]


# -- replay ----------------------------------------------------------------------------------


def test_replay_applies_the_records_after_the_last_synced_line(
    tmp_path: Path, clock: Clock
) -> None:
    archive_dir = tmp_path / "archive"
    records = [post(f"http://blog.example/r{n}/") for n in range(4)]
    with ArchiveWriter(archive_dir) as writer:
        refs = [writer.write(record) for record in records]
    path = tmp_path / "state.sqlite"

    state = CrawlState(path)
    for record, ref in zip(records[:2], refs[:2], strict=True):
        state.record_written(record, ref)
    assert state.replay(archive_dir) == 2  # the pending synced lines count
    assert state.replay(archive_dir) == 0
    assert all(state.get(record.url) is not None for record in records)
    state.close()
    assert synced_table(path) == [(refs[0].file, 4)]

    fresh = tmp_path / "fresh.sqlite"
    CrawlState(fresh, archive_dir).close()  # replayed on open
    assert urls_table(fresh) == urls_table(path)  # the same clock: the same rows


# -- fewer statements ------------------------------------------------------------------------


def test_fetched_runs_no_sql_until_the_commit(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "state.sqlite")
    statements: list[str] = []
    state.db.set_trace_callback(statements.append)
    for n in range(150):  # below the batch size
        state.fetched(f"http://blog.example/f{n}/", etag=None, last_modified=None)
    assert statements == []  # each call only updated a pending row
    state.commit()
    assert statements  # applied now
    assert state.db.execute("SELECT count(*) FROM urls").fetchone()[0] == 150
    state.close()


def test_repeated_writes_to_a_url_are_merged(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "state.sqlite")
    statements: list[str] = []
    state.db.set_trace_callback(statements.append)
    calls = 1000
    for n in range(calls):  # as re-checks and redirects fetch the same URLs again
        url = f"http://blog.example/m{n % 20}/"
        state.fetched(url, etag=f'"{n}"', last_modified=None)
    state.commit()
    # 5 batches of at most 20 rows (the trace names each row of an executemany), COMMIT, BEGIN
    assert len(statements) <= calls // 8
    assert state.get("http://blog.example/m19/").etag == f'"{calls - 1}"'
    state.close()


class CountingConnection:
    """Counts the statements CrawlState hands to SQLite (execute and executemany calls)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.calls: list[str] = []

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        self.calls.append(sql)
        return self.db.execute(sql, parameters)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        self.calls.append(sql)
        return self.db.executemany(sql, rows)

    def close(self) -> None:
        self.db.close()


def test_fetched_calls_cost_one_executemany_per_batch(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "state.sqlite")
    counting = CountingConnection(state.db)
    state.db = counting  # type: ignore[assignment]
    calls = 1000
    for n in range(calls):
        state.fetched(f"http://blog.example/c{n}/", etag=None, last_modified=None)
    state.close()
    inserts = [sql for sql in counting.calls if sql.startswith("INSERT INTO urls")]
    assert len(inserts) == calls // 200  # one executemany per batch of 200
    assert len(counting.calls) <= calls // 50
    assert len(urls_table(tmp_path / "state.sqlite")) == calls

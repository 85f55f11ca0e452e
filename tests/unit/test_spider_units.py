"""Small pieces of the crawl: reading the site list, the extraction pool."""

from __future__ import annotations

import asyncio
import os

import pytest

from crawler.spiders.blogs import read_sites
from crawler.workers import ExtractionPool
from tests.blogfarm import groundtruth, recorded_page


def test_sites_from_argument_and_file(tmp_path):
    listing = tmp_path / "sites.txt"
    listing.write_text(
        "# my blogs\nhttps://a.example/\n\n  blog.example/path/  # comment\nhttps://a.example/\n",
        encoding="utf-8",
    )
    assert read_sites("https://c.example/,https://D.example", str(listing)) == [
        "https://c.example/",
        "https://d.example/",
        "https://a.example/",
        "https://blog.example/path/",
    ]


@pytest.mark.parametrize("bad", ["", " , ", "ftp://x.example/"])
def test_no_usable_site_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="blog"):
        read_sites(bad)


def test_pool_extracts_in_worker_processes_like_inline():
    g = groundtruth()[10]
    url = g["urls_by_theme"]["twentytwentyone"]
    body = recorded_page(url).body
    inline = ExtractionPool(0)
    pooled = ExtractionPool(1)
    try:
        assert len(pooled.pids) == 1 and os.getpid() not in pooled.pids

        async def both():
            return (
                await inline.analyse(body=body, url=url, encoding="utf-8", site=url),
                await pooled.analyse(body=body, url=url, encoding="utf-8", site=url),
            )

        a, b = asyncio.run(both())
    finally:
        pooled.close()
    assert a.record is not None and b.record is not None
    assert a.record.content_hash == b.record.content_hash
    assert a.record.model_dump(exclude={"fetched_at"}) == b.record.model_dump(
        exclude={"fetched_at"}
    )


def test_old_unchanged_posts_are_rechecked_less_often():
    from crawler.state import UrlState, recheck_due

    day = 86400.0
    now = 1000 * day

    def post(changed_days_ago: float, fetched_days_ago: float) -> UrlState:
        return UrlState(
            key="k", url="u", canonical_url=None, site=None, kind="post", etag=None,
            last_modified=None, lastmod=None, feed_date=None, content_hash=None,
            record_hash=None, version=1, deleted=False, first_seen=0.0,
            last_fetched=now - fetched_days_ago * day,
            last_changed=now - changed_days_ago * day,
            last_listed=None,
        )  # fmt: skip

    policy = {"factor": 0.1, "minimum": 3600.0, "maximum": 30 * day}
    assert recheck_due(post(changed_days_ago=2, fetched_days_ago=1), now, **policy)  # fresh
    assert not recheck_due(post(changed_days_ago=100, fetched_days_ago=5), now, **policy)
    assert recheck_due(post(changed_days_ago=100, fetched_days_ago=11), now, **policy)
    assert recheck_due(post(changed_days_ago=900, fetched_days_ago=31), now, **policy)  # cap
    assert not recheck_due(post(changed_days_ago=900, fetched_days_ago=29), now, **policy)
    assert not recheck_due(post(changed_days_ago=1, fetched_days_ago=0.01), now, **policy)  # min


def test_workers_retire_after_their_share_of_pages_and_the_pool_keeps_working():
    g = groundtruth()[3]
    url = g["urls_by_theme"]["twentytwentytwo"]
    body = recorded_page(url).body
    pool = ExtractionPool(2, max_tasks_per_worker=3)
    first = set(pool.pids)

    async def many(n: int):
        return await asyncio.gather(
            *(pool.analyse(body=body, url=url, encoding="utf-8", site=url) for _ in range(n))
        )

    try:
        results = asyncio.run(many(20))
        assert len(results) == 20 and all(r.record is not None for r in results)
        # 20 pages, 3 a worker: 6 workers retire (18 pages), each replaced by a fresh one
        assert pool.workers_started == 8
        assert len(pool.pids) == 2 and not first & set(pool.pids)
        assert asyncio.run(many(1))[0].record is not None  # a later event loop works too
    finally:
        pool.close()
    assert pool.pids == []


class _KillsTheWorker:
    """Unpickling it ends the worker process at once, as a crash would."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_a_dead_worker_fails_its_page_only_and_is_replaced(caplog):
    from crawler.workers import WorkerDied

    g = groundtruth()[3]
    url = g["urls_by_theme"]["twentytwentytwo"]
    body = recorded_page(url).body
    pool = ExtractionPool(1, prefetch=3)
    (victim,) = pool.pids

    async def run():
        poisoned = pool.analyse(url="https://crash.example/", boom=_KillsTheWorker())
        queued = [pool.analyse(body=body, url=url, encoding="utf-8", site=url) for _ in range(3)]
        return await asyncio.gather(poisoned, *queued, return_exceptions=True)

    try:
        died, *rest = asyncio.run(run())
    finally:
        pids_after = pool.pids
        pool.close()
    assert isinstance(died, WorkerDied) and "crash.example" in str(died)
    assert all(not isinstance(r, BaseException) and r.record is not None for r in rest)
    assert pool.workers_started == 2 and pids_after and victim not in pids_after
    assert "an extraction worker died (exit code 3) on https://crash.example/" in caplog.text


def test_a_worker_that_died_idle_is_replaced_when_a_page_comes():
    import signal
    import time

    g = groundtruth()[3]
    url = g["urls_by_theme"]["twentytwentytwo"]
    body = recorded_page(url).body
    pool = ExtractionPool(1)
    (victim,) = pool.pids
    try:
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while pool._live[0].process.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        result = asyncio.run(pool.analyse(body=body, url=url, encoding="utf-8", site=url))
        assert result.record is not None
        assert pool.workers_started == 2 and victim not in pool.pids
    finally:
        pool.close()

"""Two crawler processes share one frontier in Redis (crawler/redis.py) and one archive."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.store import iter_with_refs, latest
from tests.blogfarm import ROOT
from tests.conftest import SCRAPY, crawl_stats
from tests.unit.test_redis_adapter import redis_server

pytestmark = pytest.mark.integration

SITE = "http://127.0.0.1:18082/"
THEME = "twentytwentytwo"


@pytest.fixture
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


def start_worker(
    archive_dir: Path, writer: str, redis_url: str, *settings: str
) -> subprocess.Popen:
    """`scrapy crawl blogs` as in README "Several machines", in its own process group."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    stem = archive_dir.parent / f"{archive_dir.name}.{writer}"
    args = [*SCRAPY, "crawl", "blogs", "-a", f"site={SITE}"]
    for setting in (
        f"ARCHIVE_DIR={archive_dir}",
        f"ARCHIVE_WRITER_ID={writer}",
        f"SCALE_OUT_REDIS_URL={redis_url}",
        f"LOG_FILE={stem}.log",
        f"STATS_FILE={stem}.stats.json",
        "PROGRESS_INTERVAL=5",
        "EXTRACT_WORKERS=1",
        *settings,
    ):
        args += ["-s", setting]
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # SIGKILL of the group takes its extraction workers too
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> str:
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    assert proc.returncode == 0, stderr[-3000:]
    return stderr


def log_of(archive_dir: Path, writer: str) -> str:
    return (archive_dir.parent / f"{archive_dir.name}.{writer}.log").read_text(encoding="utf-8")


def archived_by_writer(archive_dir: Path) -> tuple[Counter, Counter]:
    """(records per canonical URL, records per writer) over every writer's files."""
    per_url: Counter = Counter()
    per_writer: Counter = Counter()
    for ref, record in iter_with_refs(archive_dir):
        per_url[record.canonical_url] += 1
        per_writer[Path(ref.file).parent.name] += 1
    return per_url, per_writer


def expected_urls(truth: list[dict]) -> dict[str, str]:
    return {g["urls_by_theme"][THEME]: g["type"] for g in truth}


def assert_redis_cleaned(redis_url: str) -> None:
    import redis

    leftover = sorted(k.decode() for k in redis.Redis.from_url(redis_url).keys("*"))
    assert leftover == [], f"the last worker left keys behind: {leftover}"


def test_two_workers_share_the_crawl_and_archive_each_post_once(
    blogfarm, truth, tmp_path, redis_url
):
    archive_dir = tmp_path / "archive"
    workers = [start_worker(archive_dir, w, redis_url) for w in ("w1", "w2")]
    for proc in workers:
        finish(proc)
    expected = expected_urls(truth)
    per_url, per_writer = archived_by_writer(archive_dir)
    assert dict(per_url) == dict.fromkeys(expected, 1), (
        f"missing {set(expected) - set(per_url)}; "
        f"twice {[u for u, n in per_url.items() if n > 1]}; extra {set(per_url) - set(expected)}"
    )
    assert {url: r.kind for url, r in latest(archive_dir).items()} == expected
    assert per_writer["w1"] >= 3 and per_writer["w2"] >= 3, per_writer
    assert per_writer["w1"] + per_writer["w2"] == len(expected)
    for writer in ("w1", "w2"):
        stats = crawl_stats(archive_dir, writer)
        assert stats.get("scheduler/dequeued/redis", 0) >= 3, (writer, stats)
        assert not stats.get("blogarchive/errors/archive_write"), stats
    assert_redis_cleaned(redis_url)


def test_a_killed_worker_leaves_nothing_undone(blogfarm, truth, tmp_path, redis_url):
    archive_dir = tmp_path / "archive"
    ttl = "SCALE_OUT_WORKER_TTL=6"
    # w1 is slowed down so that it holds leased requests (in its downloader) when killed
    victim = start_worker(archive_dir, "w1", redis_url, ttl, "DOWNLOAD_DELAY=0.5",
                          "AUTOTHROTTLE_ENABLED=False")  # fmt: skip
    survivor = start_worker(archive_dir, "w2", redis_url, ttl, "DOWNLOAD_DELAY=0.5",
                            "AUTOTHROTTLE_ENABLED=False")  # fmt: skip
    records = archive_dir / "records" / "w1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if sum(f.read_bytes().count(b"\n") for f in records.glob("*.jsonl")) >= 3:
            break
        assert victim.poll() is None, "w1 ended before it could be killed"
        time.sleep(0.1)
    else:
        pytest.fail("w1 archived nothing within 120 s")
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(10)
    finish(survivor)

    expected = expected_urls(truth)
    current = latest(archive_dir)
    assert {url: r.kind for url, r in current.items()} == expected
    per_url, per_writer = archived_by_writer(archive_dir)
    assert per_writer["w1"] >= 3 and per_writer["w2"] >= 1, per_writer
    # once: at most a record written in the instant between its write and its mark in Redis
    # comes twice, as the same version with the same content (readers count it once)
    twice = [url for url, n in per_url.items() if n > 1]
    assert len(twice) <= 1, twice
    for _, record in iter_with_refs(archive_dir):
        assert (
            record.version == 1
            and record.content_hash == current[record.canonical_url].content_hash
        )
    stats = crawl_stats(archive_dir, "w2")
    assert stats.get("scheduler/scale_out/requeued", 0) >= 1, stats
    assert "is gone" in log_of(archive_dir, "w2")
    assert_redis_cleaned(redis_url)

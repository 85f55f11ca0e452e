"""Crash safety: `scrapy crawl blogs` killed with SIGKILL at several points, then resumed.

Each scenario starts a real crawl of the live blogfarm (port 18082), watches the archive
files grow and kills the whole process group (the crawl and its extraction workers) with
SIGKILL once a kill point is reached; then it crawls again, to completion, into the same
ARCHIVE_DIR. After that the archive must hold every post and page of the ground truth
exactly once, as version 1, and `blogarchive verify` must pass.

The killed runs are slowed down (`DOWNLOAD_DELAY`, no AutoThrottle) so that a kill point
"in the middle" really is in the middle; the resumed run crawls at normal speed.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from archive.store import TRUNCATED_MEMBER, archive_files, iter_problems, iter_records, latest
from archive.warc import warc_files
from tests.blogfarm import ROOT, groundtruth
from tests.conftest import SCRAPY, crawl_stats, run_crawl

pytestmark = pytest.mark.integration

SITE = "http://127.0.0.1:18082/"
SLOW = ("DOWNLOAD_DELAY=0.1", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
KILL_TIMEOUT = 90.0  # seconds a killed run may take to reach its kill point

Condition = Callable[[Path], bool]


def expected_urls() -> set[str]:
    return {g["urls_by_theme"]["twentytwentytwo"] for g in groundtruth()}


def complete_lines(archive_dir: Path) -> int:
    """Complete record lines in the uncompressed record files (a torn tail does not count)."""
    total = 0
    for path in archive_files(archive_dir):
        if not path.name.endswith(".gz"):
            total += path.read_bytes().count(b"\n")
        else:
            total += _gzip_lines(path)
    return total


def _gzip_lines(path: Path) -> int:
    try:
        return gzip.decompress(path.read_bytes()).count(b"\n")
    except (OSError, EOFError):
        return 0


def warc_bytes(archive_dir: Path) -> int:
    return sum(path.stat().st_size for path in warc_files(archive_dir))


def lines_at_least(n: int) -> Condition:
    return lambda archive_dir: complete_lines(archive_dir) >= n


def crawl_and_kill(
    archive_dir: Path, when: Condition, *settings: str, name: str
) -> subprocess.CompletedProcess[str]:
    """Start a crawl; SIGKILL its process group as soon as `when(archive_dir)` holds."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    log = archive_dir.parent / f"{archive_dir.name}.{name}.log"
    args = [*SCRAPY, "crawl", "blogs", "-a", f"site={SITE}"]
    for setting in (f"ARCHIVE_DIR={archive_dir}", f"LOG_FILE={log}", *SLOW, *settings):
        args += ["-s", setting]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the extraction workers die with it
    )
    deadline = time.monotonic() + KILL_TIMEOUT
    try:
        while not when(archive_dir):
            if proc.poll() is not None:
                pytest.fail(
                    f"{name}: the crawl ended (exit {proc.returncode}) before its kill point; "
                    f"log: {log}\n{proc.stderr.read()[-2000:] if proc.stderr else ''}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"{name}: kill point not reached in {KILL_TIMEOUT:.0f} s; log: {log}")
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, f"{name}: exit {proc.returncode}"
    return subprocess.CompletedProcess(args, proc.returncode, "", stderr)


def resume(archive_dir: Path, *settings: str, name: str = "resume") -> dict:
    proc = run_crawl([SITE], archive_dir, "EXTRACT_WORKERS=1", *settings, log_name=name)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.log, proc.log[-3000:]
    return crawl_stats(archive_dir, name)


def verify(archive_dir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`blogarchive verify` as a user runs it (the console script of the venv)."""
    script = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "blogarchive"
    command = [str(script)] if script.exists() else ["blogarchive"]
    return subprocess.run(
        [*command, "verify", str(archive_dir), *options],
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_complete_archive(archive_dir: Path) -> None:
    """Every post and page once, as version 1; no conflict; `blogarchive verify` passes."""
    current = latest(archive_dir)
    assert set(current) == expected_urls(), (
        f"missing {sorted(expected_urls() - set(current))}, "
        f"extra {sorted(set(current) - expected_urls())}"
    )
    assert {r.version for r in current.values()} == {1}
    records = list(iter_records(archive_dir))
    copies = Counter(r.canonical_url for r in records)
    assert [url for url, n in copies.items() if n > 1] == [], "written twice"
    assert len(records) == 46
    result = verify(archive_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.stdout.splitlines()[-1].startswith("OK: 46 records of 46 posts and pages")


@pytest.fixture(scope="module", autouse=True)
def _site(blogfarm: str) -> None:
    """The crawls below need the blog in its seeded state (other tests reset it after use)."""


@pytest.mark.parametrize(
    ("point", "when"),
    [
        ("after_first_record", lines_at_least(1)),
        ("mid_crawl", lines_at_least(20)),
        ("near_the_end", lines_at_least(44)),
        ("before_any_record", lambda d: warc_bytes(d) > 50_000),
    ],
)
def test_killed_crawl_resumes_to_a_complete_archive(
    tmp_path: Path, point: str, when: Condition
) -> None:
    archive_dir = tmp_path / "archive"
    crawl_and_kill(archive_dir, when, name=point)
    written = complete_lines(archive_dir)
    if point == "near_the_end":
        assert 44 <= written < 46, f"killed after {written} records"
    stats = resume(archive_dir)
    # The resumed crawl writes only what the killed one had not: no record twice.
    archived = stats.get("blogarchive/archived/post", 0) + stats.get("blogarchive/archived/page", 0)
    assert archived == 46 - written, (written, archived)
    assert_complete_archive(archive_dir)


def test_successive_kills_on_one_archive(tmp_path: Path) -> None:
    """Killed three times at growing points of one archive, then run to the end."""
    archive_dir = tmp_path / "archive"
    crawl_and_kill(archive_dir, lines_at_least(1), name="kill1")
    after_first = complete_lines(archive_dir)
    crawl_and_kill(archive_dir, lines_at_least(after_first + 15), name="kill2")
    after_second = complete_lines(archive_dir)
    assert after_second > after_first
    crawl_and_kill(archive_dir, lines_at_least(after_second + 10), name="kill3")
    assert len(archive_files(archive_dir)) == 3  # one file per run, none appended to twice
    resume(archive_dir)
    assert_complete_archive(archive_dir)
    assert len(archive_files(archive_dir)) == 4


def test_torn_last_line_is_listed_skipped_and_rewritten(tmp_path: Path) -> None:
    """A SIGKILL during a `write()` can leave the start of a record line at the end of the
    file (see archive/store.py): the write never returned, so neither the archive nor the
    crawl state has that record. Such a tail is made here deterministically, by appending the
    first half of a record line to a killed run's file, as a write cut short leaves it."""
    archive_dir = tmp_path / "archive"
    crawl_and_kill(archive_dir, lines_at_least(10), name="torn")
    [path] = archive_files(archive_dir)
    first_line = path.read_bytes().split(b"\n", 1)[0]
    with open(path, "ab") as fh:
        fh.write(first_line[: len(first_line) // 2])
    [problem] = list(iter_problems(archive_dir))
    assert problem.interrupted and problem.file.endswith(path.name)
    resume(archive_dir)
    assert_complete_archive(archive_dir)
    result = verify(archive_dir)
    assert "incomplete last line (interrupted write)" in result.stdout
    assert "1 interrupted writes skipped" in result.stdout
    assert verify(archive_dir, "--strict").returncode == 1


def state_commit_after_a_batch(archive_dir: Path, seen: dict[str, int]) -> bool:
    """True once the crawl state (SQLite, WAL mode) commits after the first gzip batch was
    written: the moment it may claim records that still wait in the next batch."""
    wal = archive_dir / "state-main.sqlite-wal"
    if not wal.exists() or complete_lines(archive_dir) == 0:
        return False
    mtime = wal.stat().st_mtime_ns
    return mtime > seen.setdefault("wal", mtime)


@pytest.mark.parametrize("point", ["late_in_the_crawl", "state_commit_after_a_batch"])
def test_killed_compressed_crawl_resumes_to_a_complete_archive(tmp_path: Path, point: str) -> None:
    """ARCHIVE_COMPRESS=True buffers a batch of lines per gzip member: a kill loses the batch
    not yet written, and the resumed crawl must archive those posts again (the crawl state
    must not have counted them as archived)."""
    archive_dir = tmp_path / "archive"
    seen: dict[str, int] = {}
    conditions: dict[str, Condition] = {
        "late_in_the_crawl": lambda d: complete_lines(d) > 0 and warc_bytes(d) > 700_000,
        "state_commit_after_a_batch": lambda d: state_commit_after_a_batch(d, seen),
    }
    crawl_and_kill(
        archive_dir,
        conditions[point],
        "ARCHIVE_COMPRESS=True",
        "ARCHIVE_FSYNC_EVERY=1000",  # batches end every 5 s (fsync_interval) only
        "DOWNLOAD_DELAY=0.3",  # long enough for a state commit after the first batch
        name=point,
    )
    killed_with = complete_lines(archive_dir)
    if point == "late_in_the_crawl":
        assert 0 < killed_with < 46
    stats = resume(archive_dir, "ARCHIVE_COMPRESS=True")
    archived = stats.get("blogarchive/archived/post", 0) + stats.get("blogarchive/archived/page", 0)
    assert archived == 46 - killed_with
    assert_complete_archive(archive_dir)


def test_truncated_gzip_member_is_listed_and_skipped(tmp_path: Path) -> None:
    """A kill during the write of a gzip member leaves a truncated member at the end."""
    archive_dir = tmp_path / "archive"
    crawl_and_kill(
        archive_dir, lines_at_least(5), "ARCHIVE_COMPRESS=True", "ARCHIVE_FSYNC_EVERY=5",
        name="gzip-torn",
    )  # fmt: skip
    [path] = archive_files(archive_dir)
    with open(path, "ab") as fh:  # half a member, as a write cut short leaves it
        member = gzip.compress(b'{"url": "http://127.0.0.1:18082/x/"}\n' * 50, mtime=0)
        fh.write(member[: len(member) // 2])
    problems = list(iter_problems(archive_dir))
    assert problems and all(p.interrupted for p in problems), problems
    assert TRUNCATED_MEMBER in {p.reason for p in problems}
    resume(archive_dir, "ARCHIVE_COMPRESS=True")
    assert_complete_archive(archive_dir)
    assert "truncated gzip member" in verify(archive_dir).stdout

"""An archive that cannot be written: full disk, read-only disk, a file in the way.

A crawl whose ARCHIVE_DIR cannot be written must stop with one CRITICAL log line naming the
path and the reason, exit cleanly (exit 0, finish reason `archive_write_error`,
`warc_write_error` or `state_error`), and leave an archive `blogarchive verify` accepts.
A later crawl with space again must archive every post exactly once: the crawl state must
never claim a record the archive does not have.

Full and read-only disks are real small tmpfs mounts (tests run as root; skipped where
mounting is not allowed); a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored, so write()
fails with EFBIG) and a file where a directory should be work everywhere.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import resource
import signal
import string
import subprocess
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archive.store import iter_records, latest
from tests.blogfarm import ROOT
from tests.conftest import SCRAPY
from tests.httpserver import Route, SiteServer

HTML = {"Content-Type": "text/html; charset=utf-8"}
POSTS = [f"/2024/01/beitrag-{i}/" for i in range(16)]


def post_page(title: str, seed: int) -> Route:
    """A post of about 16 KB of text that gzip cannot shrink much (random words)."""
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))

    text = "".join("<p>" + " ".join(word() for _ in range(150)) + ".</p>" for _ in range(12))
    html = (
        f"<!DOCTYPE html><html lang='de'><head><title>{title}</title></head><body>"
        "<nav><a href='{base}/'>Start</a></nav><main><article>"
        f"<h1 class='entry-title'>{title}</h1><div class='entry-content'>{text}</div>"
        "</article></main></body></html>"
    )
    return Route(200, html.encode(), HTML)


def site_routes() -> dict[str, Route]:
    items = "".join(
        f"<article><h2 class='entry-title'><a href='{{base}}{p}'>Titel {i}</a></h2>"
        "<p>Anriss.</p></article>"
        for i, p in enumerate(POSTS)
    )
    home = f"<html><head><title>Blog</title></head><body><main>{items}</main></body></html>"
    routes = {"/": Route(200, home.encode(), HTML)}
    routes.update({p: post_page(f"Beitrag {i}", i) for i, p in enumerate(POSTS)})
    return routes


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    with SiteServer(site_routes()) as server:
        yield server


def crawl(
    site: SiteServer,
    archive_dir: Path,
    *settings: str,
    preexec_fn: Callable[[], None] | None = None,
    log_to_file: bool = True,
) -> tuple[subprocess.CompletedProcess[str], str]:
    """`scrapy crawl blogs` on the local site; returns the process and its log. The log and
    stats go beside the archive (never on the small filesystem under test)."""
    stem = archive_dir.parent / f"{archive_dir.name}.{uuid.uuid4().hex[:6]}"
    log = Path(f"{stem}.log")
    args = [*SCRAPY, "crawl", "blogs", "-a", f"site={site.url}"]
    options = [f"ARCHIVE_DIR={archive_dir}", "EXTRACT_WORKERS=0", "PROGRESS_INTERVAL=0"]
    if log_to_file:
        options.append(f"LOG_FILE={log}")
    for setting in (*options, *settings):
        args += ["-s", setting]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        args,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=preexec_fn,  # noqa: PLW1509 - only sets a resource limit
    )
    text = log.read_text(encoding="utf-8") if log_to_file and log.exists() else proc.stderr
    return proc, text


def verify(archive_dir: Path) -> subprocess.CompletedProcess[str]:
    script = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "blogarchive"
    command = [str(script)] if script.exists() else ["blogarchive"]
    return subprocess.run(
        [*command, "verify", str(archive_dir)], capture_output=True, text=True, timeout=60
    )


def critical_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CRITICAL:" in line]


def tracebacks(log: str) -> list[str]:
    """The log lines that introduce a traceback (the ERROR line before each one)."""
    lines = log.splitlines()
    return [lines[i - 1] for i, line in enumerate(lines) if line.startswith("Traceback") and i]


# Known: BlogsSpider._save_profiles (crawler/spiders/blogs.py) lets the OSError of a full or
# read-only disk escape from its spider_closed handler; Scrapy logs it with a traceback.
KNOWN_TRACEBACKS = re.compile(r"_save_profiles")


def assert_stopped_cleanly(
    proc: subprocess.CompletedProcess[str], log: str, reason: str, path: str, why: str
) -> None:
    """One CRITICAL line naming `path` and `why`, exit 1, closed with `reason`, no traceback."""
    assert proc.returncode == 1, proc.stderr[-3000:]
    critical = critical_lines(log)
    assert critical, log[-3000:]
    assert path in critical[0] and why in critical[0], critical
    assert len(critical) <= 2, critical  # at most one per writer (records, WARC)
    assert f"Spider closed ({reason})" in log, log[-2000:]
    unexpected = [t for t in tracebacks(log) if not KNOWN_TRACEBACKS.search(t)]
    assert unexpected == [], log[-4000:]


def assert_archive_accepted(archive_dir: Path) -> None:
    result = verify(archive_dir)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stdout.splitlines()[-1].startswith("OK:"), result.stdout


def assert_every_post_once(site: SiteServer, archive_dir: Path) -> None:
    expected = {site.url.rstrip("/") + p for p in POSTS}
    records = list(iter_records(archive_dir))
    assert set(latest(archive_dir)) == expected
    assert [u for u, n in Counter(r.canonical_url for r in records).items() if n > 1] == []
    assert {r.version for r in records} == {1}


# --------------------------------------------------------------------------------------------
# Everywhere: a file where a directory should be, a file-size limit
# --------------------------------------------------------------------------------------------


def test_a_file_where_the_records_directory_should_be(site: SiteServer, tmp_path: Path) -> None:
    archive_dir = tmp_path / "archive"
    archive_dir.mkdir()
    (archive_dir / "records").write_text("not a directory")
    proc, log = crawl(site, archive_dir)
    assert_stopped_cleanly(
        proc, log, "archive_write_error", str(archive_dir / "records"), "Not a directory"
    )
    # Nothing could be written: verify says it is no archive (exit 2), it does not crash.
    result = verify(archive_dir)
    assert result.returncode == 2 and "not an archive" in result.stderr


def test_a_file_where_the_warc_directory_should_be(site: SiteServer, tmp_path: Path) -> None:
    archive_dir = tmp_path / "archive"
    archive_dir.mkdir()
    (archive_dir / "warc").write_text("not a directory")
    proc, log = crawl(site, archive_dir)
    assert_stopped_cleanly(
        proc, log, "warc_write_error", str(archive_dir / "warc" / "main"), "Not a directory"
    )
    assert_archive_accepted(archive_dir)
    (archive_dir / "warc").unlink()
    proc, log = crawl(site, archive_dir)
    assert proc.returncode == 0 and not critical_lines(log)
    assert_every_post_once(site, archive_dir)


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_file_size_limit_stops_the_crawl_at_the_warc_writer(
    site: SiteServer, tmp_path: Path
) -> None:
    """RLIMIT_FSIZE makes every write beyond the limit fail, as on a full disk. The log goes
    to stderr (a pipe, not limited)."""
    archive_dir = tmp_path / "archive"
    proc, log = crawl(site, archive_dir, preexec_fn=_limit_file_size(60_000), log_to_file=False)
    assert proc.returncode == 1, log[-3000:]
    [critical] = critical_lines(log)
    assert str(archive_dir / "warc" / "main") in critical and "File too large" in critical
    assert "cannot write None" not in critical
    assert "Spider closed (warc_write_error)" in log
    assert_archive_accepted(archive_dir)
    # The WARC file was cut back to its last complete record: readable to its end.
    proc, log = crawl(site, archive_dir)
    assert proc.returncode == 0 and not critical_lines(log), log[-3000:]
    assert_every_post_once(site, archive_dir)
    assert_archive_accepted(archive_dir)


# --------------------------------------------------------------------------------------------
# Real small filesystems (tmpfs), where mounting is allowed
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False, timeout=30)


def remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True, timeout=30)


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ((), "warc_write_error|archive_write_error"),
        (("WARC_ENABLED=False",), "archive_write_error"),
        (("WARC_ENABLED=False", "ARCHIVE_COMPRESS=True", "ARCHIVE_FSYNC_EVERY=2"),
         "archive_write_error"),
    ],
    ids=["warc", "records", "records-gzip"],
)  # fmt: skip
def test_full_disk_stops_the_crawl_and_a_later_crawl_completes_the_archive(
    site: SiteServer, tmp_path: Path, settings: tuple[str, ...], reason: str
) -> None:
    size = "140k" if "ARCHIVE_COMPRESS=True" in settings else "200k"  # gzip: smaller records
    with tmpfs(tmp_path / "disk", size) as archive_dir:
        proc, log = crawl(site, archive_dir, *settings)
        assert proc.returncode == 1, proc.stderr[-3000:]
        critical = critical_lines(log)
        assert critical, log[-3000:]
        assert str(archive_dir) in critical[0] and "No space left on device" in critical[0]
        closed = re.search(r"Spider closed \((\w+)\)", log)
        assert closed and re.fullmatch(reason, closed[1]), log[-2000:]
        unexpected = [t for t in tracebacks(log) if not KNOWN_TRACEBACKS.search(t)]
        assert unexpected == [], log[-4000:]
        written = len(list(iter_records(archive_dir)))
        assert written < len(POSTS), "the disk was not full: make the site bigger"
        assert_archive_accepted(archive_dir)
        # Space again: the next crawl archives what is missing, and nothing twice.
        remount(archive_dir, "size=20m")
        proc, log = crawl(site, archive_dir, *settings)
        assert proc.returncode == 0 and not critical_lines(log), log[-3000:]
        assert_every_post_once(site, archive_dir)
        assert_archive_accepted(archive_dir)


def test_read_only_disk_stops_the_crawl(site: SiteServer, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as archive_dir:
        proc, log = crawl(site, archive_dir)
        assert_stopped_cleanly(
            proc, log, "archive_write_error", str(archive_dir), "Read-only file system"
        )


def test_archive_on_a_disk_remounted_read_only(site: SiteServer, tmp_path: Path) -> None:
    """An existing archive (with its crawl state) whose disk became read-only."""
    with tmpfs(tmp_path / "disk", "20m") as archive_dir:
        proc, _ = crawl(site, archive_dir)
        assert proc.returncode == 0
        remount(archive_dir, "ro")
        proc, log = crawl(site, archive_dir, "RECHECK_ALL=True")
        assert_stopped_cleanly(
            proc, log, "state_error", str(archive_dir / "state-main.sqlite"), "unable to open"
        )
        assert_archive_accepted(archive_dir)
        assert_every_post_once(site, archive_dir)


def test_unwritable_disk_leaves_no_traceback_at_all(site: SiteServer, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as archive_dir:
        _, log = crawl(site, archive_dir)
        assert critical_lines(log)
        assert tracebacks(log) == [], tracebacks(log)

"""Shared fixtures: the live blogfarm WordPress (started by .ci/run) and crawl helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.blogfarm import BLOGFARM, ROOT, groundtruth

SCRAPY = [sys.executable, "-m", "scrapy"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that collected no test must not pass (pytest's exit 5 would look green)."""
    if session.testscollected == 0 and exitstatus in (0, 5):
        session.exitstatus = 1


@pytest.fixture(scope="session")
def blogfarm() -> str:
    """Base URL of the live blogfarm (bash ../shared/blogfarm/up.sh)."""
    try:
        urllib.request.urlopen("http://127.0.0.1:18080/robots.txt", timeout=5)
    except OSError:
        pytest.fail(f"blogfarm is not running: run  bash {BLOGFARM}/up.sh  first")
    return "http://127.0.0.1:18080/"


@pytest.fixture(scope="session")
def truth() -> list[dict]:
    return groundtruth()


def run_crawl(
    sites: list[str],
    archive_dir: Path,
    *settings: str,
    timeout: float = 600,
    log_name: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`scrapy crawl blogs` as a user runs it. Its log and final stats go beside the archive:
    `<archive>.log` and `<archive>.stats.json` (`<archive>.<log_name>.*` when named)."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    stem = archive_dir.parent / (archive_dir.name + (f".{log_name}" if log_name else ""))
    log = Path(f"{stem}.log")
    args = [*SCRAPY, "crawl", "blogs", "-a", f"site={','.join(sites)}"]
    for setting in (
        f"ARCHIVE_DIR={archive_dir}",
        f"LOG_FILE={log}",
        "PROGRESS_INTERVAL=5",
        f"STATS_FILE={stem}.stats.json",
        *settings,
    ):
        args += ["-s", setting]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    proc.log = log.read_text(encoding="utf-8") if log.exists() else ""  # type: ignore[attr-defined]
    return proc


def crawl_stats(archive_dir: Path, log_name: str | None = None) -> dict:
    """The final crawl stats, written by the CrawlProgress extension (STATS_FILE)."""
    stem = archive_dir.parent / (archive_dir.name + (f".{log_name}" if log_name else ""))
    return json.loads(Path(f"{stem}.stats.json").read_text())


def read_json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

"""Scheduled crawls through scrapyd: deploy this project with scrapyd-deploy, schedule
`blogs` over HTTP, wait for the job, read the archive it wrote.

scrapyd runs in a temporary directory with its own config (127.0.0.1, a free port, eggs,
logs and dbs under tmp). The project is deployed from a copy of its sources (scrapyd-deploy
writes setup.py, build/ and *.egg-info where it runs), with the repository's scrapy.cfg
plus a `[deploy:test]` target for that port.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.store import iter_records, latest
from tests.blogfarm import ROOT, groundtruth

pytestmark = pytest.mark.integration

SITE = "http://127.0.0.1:18082/"
BIN = Path(sys.executable).parent
JOB_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=30) as response:
        return json.loads(response.read())


class Scrapyd:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.logs = workdir / "logs"
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            f"eggs_dir = {workdir / 'eggs'}\n"
            f"logs_dir = {self.logs}\n"
            f"dbs_dir = {workdir / 'dbs'}\n"
            "items_dir =\n"
            "max_proc = 2\n"
            "poll_interval = 0.5\n"
        )
        self.output = open(workdir / "scrapyd.out", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(BIN / "scrapyd")],
            cwd=workdir,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its crawl processes are in its group: stopped with it
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"scrapyd exited: {(self.workdir / 'scrapyd.out').read_text()}")
            try:
                if get_json(self.url + "daemonstatus.json")["status"] == "ok":
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"scrapyd not ready in {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self.output.close()


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[Scrapyd]:
    server = Scrapyd(tmp_path / "scrapyd")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def project_copy(destination: Path, scrapyd_url: str) -> Path:
    """The project's sources and config, with a `[deploy:test]` target added."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in ("crawler", "archive", "schemas"):
        shutil.copytree(ROOT / name, destination / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "scrapy.cfg"):
        shutil.copy2(ROOT / name, destination / name)
    with open(destination / "scrapy.cfg", "a", encoding="utf-8") as fh:
        fh.write(f"\n[deploy:test]\nurl = {scrapyd_url}\nproject = blogarchive\n")
    return destination


def test_scrapy_cfg_has_a_usable_deploy_target() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "scrapy.cfg")
    assert config["settings"]["default"] == "crawler.settings"
    assert config["deploy"]["project"] == "blogarchive"
    assert urllib.parse.urlsplit(config["deploy"]["url"]).scheme in ("http", "https")


def test_deploy_schedule_and_archive(blogfarm: str, scrapyd: Scrapyd, tmp_path: Path) -> None:
    project = project_copy(tmp_path / "project", scrapyd.url)
    deploy = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "test", "--version", "1"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = deploy.stdout + deploy.stderr
    assert deploy.returncode == 0, output
    response, _ = json.JSONDecoder().raw_decode(output[output.index("{") :])
    assert response["status"] == "ok" and response["spiders"] == 1, output
    assert get_json(scrapyd.url + "listspiders.json?project=blogarchive")["spiders"] == ["blogs"]

    archive_dir = tmp_path / "archive"
    scheduled = get_json(
        scrapyd.url + "schedule.json",
        [
            ("project", "blogarchive"),
            ("spider", "blogs"),
            ("site", SITE),
            ("setting", f"ARCHIVE_DIR={archive_dir}"),
            ("setting", "EXTRACT_WORKERS=1"),
        ],
    )
    assert scheduled["status"] == "ok", scheduled
    job = scheduled["jobid"]

    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        jobs = get_json(scrapyd.url + "listjobs.json?project=blogarchive")
        if any(j["id"] == job for j in jobs["finished"]):
            break
        assert time.monotonic() < deadline, f"job {job} not finished in {JOB_TIMEOUT:.0f} s: {jobs}"
        time.sleep(0.5)

    log = (scrapyd.logs / "blogarchive" / "blogs" / f"{job}.log").read_text(encoding="utf-8")
    assert "Spider closed (finished)" in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    records = list(iter_records(archive_dir))
    assert len(records) == 46
    expected = {g["urls_by_theme"]["twentytwentytwo"] for g in groundtruth()}
    assert set(latest(archive_dir)) == expected
    verify = subprocess.run(
        [str(BIN / "blogarchive"), "verify", str(archive_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout[-2000:]

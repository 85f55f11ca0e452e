"""Issue 12, case 8: basic auth from a start URL works and its password is never logged or
stored; `scrapy crawl blogs` exits non-zero when the crawl did not finish normally, and the
stats file is written in every case."""

from __future__ import annotations

import base64
import gzip
import json
import os
import signal
import subprocess
import time

from archive.store import iter_records
from tests.blogfarm import ROOT
from tests.conftest import SCRAPY, crawl_stats, run_crawl
from tests.httpserver import Route, SiteServer
from tests.unit.hostile import HTML, article, good_blog, text

PASSWORD = "s3cr3t!pw"


def protected(routes: dict[str, Route]) -> dict:
    token = "Basic " + base64.b64encode(f"anna:{PASSWORD}".encode()).decode()

    def guard(route: Route):
        def answer(headers: dict[str, str]) -> Route:
            if headers.get("Authorization") != token:
                return Route(401, b"no", {"WWW-Authenticate": 'Basic realm="blog"'})
            return route

        return answer

    return {path: guard(route) for path, route in routes.items()}


def test_basic_auth_from_the_start_url_and_no_password_anywhere(tmp_path):
    archive_dir = tmp_path / "archive"
    with SiteServer(protected(good_blog(3))) as site:
        start = site.url.replace("http://", f"http://anna:{PASSWORD.replace('!', '%21')}@")
        proc = run_crawl([start], archive_dir, "EXTRACT_WORKERS=1")
        sent = [h.get("Authorization") for h in site.headers]
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = list(iter_records(archive_dir))
    assert len(records) == 3
    assert {r.site for r in records} == {site.url}
    assert all(sent), "a request went out without the credentials"
    token = base64.b64encode(f"anna:{PASSWORD}".encode()).decode()
    for text_ in (
        proc.log,
        proc.stdout,
        proc.stderr,
        (tmp_path / "archive.stats.json").read_text(),
    ):
        assert PASSWORD not in text_ and "s3cr3t%21pw" not in text_ and token not in text_
    for path in (archive_dir / "warc").rglob("*.warc.gz"):
        raw = gzip.decompress(path.read_bytes())
        assert token.encode() not in raw and PASSWORD.encode() not in raw
    for path in (archive_dir / "records").rglob("*.jsonl"):
        assert PASSWORD not in path.read_text()


def test_a_crawl_stopped_by_an_error_exits_1_with_its_stats(tmp_path):
    archive_dir = tmp_path / "archive"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with SiteServer(good_blog(2)) as site:
        proc = run_crawl([site.url], archive_dir, f"STATE_PATH={blocker}/state.sqlite")
    assert proc.returncode == 1
    assert crawl_stats(archive_dir)["finish_reason"] == "state_error"
    assert "exit status 1" in proc.log


def test_a_second_ctrl_c_exits_2_and_still_writes_the_stats(tmp_path):
    archive_dir = tmp_path / "archive"
    stats_file = tmp_path / "stats.json"
    routes = good_blog(2)
    routes["/2024/01/post-1/"] = Route(200, article("Lang", text(5)).encode(), HTML, trickle=0.5)
    with SiteServer(routes) as site:
        args = [*SCRAPY, "crawl", "blogs", "-a", f"site={site.url}"]
        for setting in (
            f"ARCHIVE_DIR={archive_dir}",
            f"STATS_FILE={stats_file}",
            f"LOG_FILE={tmp_path / 'crawl.log'}",
            "EXTRACT_WORKERS=1",
        ):
            args += ["-s", setting]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(args, cwd=ROOT, env=env)
        try:
            deadline = time.monotonic() + 30
            while "/2024/01/post-1/" not in site.requests and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "/2024/01/post-1/" in site.requests
            proc.send_signal(signal.SIGINT)
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=30)
        finally:
            proc.kill()
    assert code == 2
    stats = json.loads(stats_file.read_text())
    assert stats["finish_reason"] in ("forced_shutdown", "shutdown")


def test_a_crawl_that_cannot_start_exits_1_with_a_stats_file(tmp_path):
    archive_dir = tmp_path / "archive"
    proc = run_crawl(["ftp://anna:s3cr3t@files.example/"], archive_dir)
    assert proc.returncode == 1
    assert crawl_stats(archive_dir)["finish_reason"] == "bootstrap_failed"
    assert "s3cr3t" not in proc.log + proc.stderr + proc.stdout

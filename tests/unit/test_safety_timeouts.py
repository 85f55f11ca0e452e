"""Issue 12, case 5: one slow page does not hold back a small blog's records (profile
warm-up), and a robots.txt that never answers costs ROBOTSTXT_TIMEOUT once, not 2 x 3 x 60 s."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from archive.store import iter_records
from tests.blogfarm import ROOT
from tests.conftest import SCRAPY, crawl_stats, run_crawl
from tests.httpserver import Route, SiteServer
from tests.unit.hostile import HTML, article, good_blog, sitemap, text


def test_slow_page_does_not_hold_back_the_other_records(tmp_path):
    archive_dir = tmp_path / "archive"
    routes = good_blog(4)
    paths = [f"/2024/01/post-{i}/" for i in range(4)] + ["/2024/01/slow/"]
    routes["/sitemap.xml"] = Route(200, sitemap("{base}", paths), {"Content-Type": "text/xml"})
    routes["/2024/01/slow/"] = Route(200, article("Langsam", text(7)).encode(), HTML, trickle=1.0)
    with SiteServer(routes) as site:
        args = [*SCRAPY, "crawl", "blogs", "-a", f"site={site.url}"]
        for setting in (
            f"ARCHIVE_DIR={archive_dir}",
            f"LOG_FILE={tmp_path / 'crawl.log'}",
            "PROFILE_WARMUP_MAX_WAIT=1",
            "DOWNLOAD_TIMEOUT=9",
            "RETRY_TIMES=0",
            "EXTRACT_WORKERS=1",
        ):
            args += ["-s", setting]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(args, cwd=ROOT, env=env)
        try:
            archived_after = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                records = (
                    list(iter_records(archive_dir)) if (archive_dir / "records").exists() else []
                )
                if len(records) >= 4 and site.times:
                    archived_after = time.monotonic() - site.times[0][0]
                    break
                time.sleep(0.2)
            assert proc.wait(timeout=60) == 0
        finally:
            proc.kill()
    assert archived_after is not None, "the 4 records never appeared"
    assert archived_after < 6, f"records held back {archived_after:.1f}s by one slow page"
    log = Path(tmp_path / "crawl.log").read_text()
    assert "PROFILE_WARMUP_MAX_WAIT" in log
    assert f"skipped {site.url}2024/01/slow/" in log  # the slow page itself: timed out


def test_robots_txt_that_never_answers(tmp_path):
    archive_dir = tmp_path / "archive"
    routes = good_blog(3)
    routes["/robots.txt"] = Route(200, b"User-agent: *\n", {"Content-Type": "text/plain"}, hang=600)
    with SiteServer(routes) as site:
        started = time.monotonic()
        proc = run_crawl([site.url], archive_dir, "ROBOTSTXT_TIMEOUT=2", timeout=60)
        elapsed = time.monotonic() - started
        robots = site.requests.count("/robots.txt")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert elapsed < 30, elapsed
    assert robots == 1  # Scrapy's request; the spider's own is not sent again
    assert len(list(iter_records(archive_dir))) == 3
    assert f"robots.txt of {site.url[7:-1]} failed within ROBOTSTXT_TIMEOUT=2.0s" in proc.log
    assert crawl_stats(archive_dir)["blogarchive/robots_txt_failed"] == 1

"""The crawl step of the README's first command, run verbatim, archives the whole blogfarm."""

from __future__ import annotations

import os
import subprocess

import pytest

from archive.store import iter_records
from tests.blogfarm import ROOT
from tests.readme import commands

pytestmark = pytest.mark.integration


def _crawl_step() -> str:
    steps = [s.strip() for s in commands()["install"].replace("\\\n", " ").split("&&")]
    crawl = [s for s in steps if s.startswith("scrapy crawl blogs")]
    assert len(crawl) == 1, steps
    return crawl[0]


def test_readme_crawl_archives_all_posts_and_pages(blogfarm, truth, tmp_path):
    """Run in an empty folder (the project found through SCRAPY_SETTINGS_MODULE), so that its
    relative ARCHIVE_DIR is new: every one of the 46 posts and pages must be in it, once."""
    step = _crawl_step()
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        ["bash", "-c", step], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "'blogarchive':" in proc.stderr  # the version in the startup banner
    archive = tmp_path / step.split("ARCHIVE_DIR=")[1].split()[0]
    urls = [r.url for r in iter_records(archive)]
    assert len(urls) == len(set(urls))
    assert set(urls) == {g["url"] for g in truth}

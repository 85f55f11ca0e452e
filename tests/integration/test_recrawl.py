"""Scheduled re-crawls of the live blogfarm, changed between runs with its control tool."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from archive.scoring import score_document
from archive.store import iter_records
from tests.blogfarm import BLOGFARM
from tests.conftest import crawl_stats, run_crawl

pytestmark = pytest.mark.integration

SITE = "http://127.0.0.1:18080/"


def ctl(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(BLOGFARM / "ctl.py"), *args, "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


class Crawls:
    """Successive crawls into one archive; each returns the records it added."""

    def __init__(self, archive_dir):
        self.archive_dir = archive_dir
        self.seen = 0
        self.runs = 0

    def __call__(self) -> tuple[list, dict]:
        self.runs += 1
        proc = run_crawl([SITE], self.archive_dir, "EXTRACT_WORKERS=1", log_name=f"run{self.runs}")
        assert proc.returncode == 0, proc.stderr[-2000:]
        records = list(iter_records(self.archive_dir))
        added, self.seen = records[self.seen :], len(records)
        return added, crawl_stats(self.archive_dir, f"run{self.runs}")


@pytest.fixture(scope="module")
def crawls(blogfarm, tmp_path_factory):
    ctl("reset")
    yield Crawls(tmp_path_factory.mktemp("recrawl") / "archive")
    ctl("reset")


def test_first_crawl_archives_everything(crawls):
    added, stats = crawls()
    assert len(added) == 46
    crawls.first_bytes = stats["downloader/response_bytes"]


def test_second_crawl_with_nothing_changed(crawls):
    added, stats = crawls()
    assert added == []
    assert stats["downloader/response_bytes"] < 0.25 * crawls.first_bytes, stats
    assert stats.get("blogarchive/pages_fetched", 0) <= 2


def test_new_post_is_archived_alone(crawls):
    new = ctl(
        "add-post", "--title", "Neu im Test", "--date", "2025-01-01 12:00",
        "--body-html", "<p>Ein ganz neuer Beitrag mit einem Absatz, den es vorher nicht gab.</p>",
    )  # fmt: skip
    added, _ = crawls()
    assert [(r.url, r.version) for r in added] == [(new["url"], 1)]
    assert score_document(new["body_text"], added[0].text).f1 == 1.0


def test_edited_post_gets_one_new_version(crawls):
    before = {r.url: r for r in iter_records(crawls.archive_dir)}
    edited = ctl(
        "edit-post", "sauerteigbrot-fuer-anfaenger",
        "--append-html", "<p>Nachtrag: Das Brot gelingt auch mit Dinkelmehl.</p>",
    )  # fmt: skip
    added, _ = crawls()
    assert [(r.url, r.version) for r in added] == [(edited["url"], 2)]
    assert added[0].previous_hash == before[edited["url"]].content_hash
    assert added[0].text.endswith("Nachtrag: Das Brot gelingt auch mit Dinkelmehl.")


def test_deleted_post_gets_one_tombstone(crawls):
    gone = ctl("delete-post", "wo-ist-die-community")
    added, _ = crawls()
    assert len(added) == 1
    assert added[0].deleted and added[0].url == gone["url"] and added[0].status == 404
    assert added[0].version == 2


def test_new_comment_is_recorded(crawls):
    result = ctl(
        "add-comment", "ein-jahr-ohne-auto", "--author", "Testleserin",
        "--text", "Ein neuer Kommentar nach dem ersten Crawl.",
    )  # fmt: skip
    added, _ = crawls()
    assert len(added) == 1
    post = added[0]
    assert post.url == result["url"].split("#")[0]
    assert post.version == 2
    assert post.comments[-1].author == "Testleserin"
    assert post.comments[-1].text == "Ein neuer Kommentar nach dem ersten Crawl."
    assert len(post.comments) == result["comment_count"]


def test_recheck_all_fetches_everything_and_writes_nothing_new(crawls):
    proc = run_crawl([SITE], crawls.archive_dir, "RECHECK_ALL=True", log_name="recheck")
    assert proc.returncode == 0
    stats = crawl_stats(crawls.archive_dir, "recheck")
    assert stats["blogarchive/pages_fetched"] >= 46
    assert stats.get("blogarchive/unchanged", 0) >= 45
    assert "blogarchive/archived/post" not in stats

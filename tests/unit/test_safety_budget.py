"""Issue 12, case 4: a spider trap ends by itself within its per-blog budget, with bounded
memory, while the other blog of the same run is archived in full."""

from __future__ import annotations

import contextlib
import time

import pytest

from archive.store import iter_records
from tests.conftest import crawl_stats, run_crawl
from tests.httpserver import SiteServer
from tests.unit.hostile import TRAP_KINDS, good_blog, trap

BUDGET = 150


RULES = {
    "pages": "too_deep",
    "calendar": "query_variants",
    "deeper": "path_too_deep",
    "loop": "repeated_segments",
    "long": "url_too_long",
}


@pytest.fixture(scope="module")
def trap_crawl(tmp_path_factory):
    archive_dir = tmp_path_factory.mktemp("trap") / "archive"
    with contextlib.ExitStack() as stack:
        traps = {k: stack.enter_context(SiteServer({}, fallback=trap(k))) for k in TRAP_KINDS}
        good = stack.enter_context(SiteServer(good_blog(6)))
        started = time.monotonic()
        proc = run_crawl(
            [*(t.url for t in traps.values()), good.url],
            archive_dir,
            f"BUDGET_MAX_REQUESTS={BUDGET}",
            "BUDGET_MAX_DEPTH=40",
            "BUDGET_MAX_QUERY_VARIANTS=8",
            "BUDGET_MAX_PATH_SEGMENTS=8",
            "BUDGET_MAX_URL_LENGTH=400",
            "AUTOTHROTTLE_ENABLED=False",
            "MEMUSAGE_CHECK_INTERVAL_SECONDS=1",
            "EXTRACT_WORKERS=1",
            timeout=120,
        )
        elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    return traps, good, archive_dir, proc.log, elapsed


def test_trapped_blog_is_stopped_by_its_budget(trap_crawl):
    traps, _, archive_dir, log, elapsed = trap_crawl
    bad = traps["breadth"]
    pages = [p for p in bad.requests if p != "/robots.txt"]
    assert len(pages) <= BUDGET, len(pages)
    stops = [line for line in log.splitlines() if "budget: stopping" in line]
    assert len(stops) == 1, stops
    assert bad.url in stops[0]
    assert f"BUDGET_MAX_REQUESTS={BUDGET}" in stops[0]
    assert "the other blogs go on" in stops[0]
    stats = crawl_stats(archive_dir)
    assert stats["finish_reason"] == "finished"
    assert stats["blogarchive/budget/stopped_blogs"] == 1
    assert stats[f"blogarchive/budget/stopped/{bad.url}"] == f"BUDGET_MAX_REQUESTS={BUDGET}"
    assert elapsed < 100


@pytest.mark.parametrize("kind", sorted(RULES))
def test_each_url_rule_ends_its_trap_with_one_log_line(trap_crawl, kind):
    traps, _, archive_dir, log, _ = trap_crawl
    rule, site = RULES[kind], traps[kind]
    assert crawl_stats(archive_dir)[f"blogarchive/budget/{rule}"] >= 1
    lines = [line for line in log.splitlines() if f"({rule}, BUDGET_MAX_" in line]
    assert len(lines) == 1, lines
    assert site.url in lines[0]
    assert len(site.requests) < 60, site.requests  # far below BUDGET: the rule ended it


def test_no_trap_url_beyond_the_rules_was_fetched(trap_crawl):
    traps, _, _, _, _ = trap_crawl
    requests = [p for t in traps.values() for p in t.requests]
    assert all(len(p) <= 400 - len("http://127.0.0.1:65535") for p in requests)
    assert all(p.count("/") <= 9 for p in requests)
    assert len({p for p in traps["calendar"].requests if "?month=" in p}) <= 8
    assert len({p for p in traps["calendar"].requests if "?id=" in p}) <= 8
    assert len({p for p in traps["pages"].requests if p.startswith("/page/")}) <= 40


def test_other_blog_is_archived_in_full(trap_crawl):
    _, good, archive_dir, _, _ = trap_crawl
    urls = {r.url for r in iter_records(archive_dir) if r.site == good.url}
    assert urls == {f"{good.url}2024/01/post-{i}/" for i in range(6)}


def test_memory_stays_bounded(trap_crawl):
    _, _, archive_dir, _, _ = trap_crawl
    stats = crawl_stats(archive_dir)
    grown = (stats["memusage/max"] - stats["memusage/startup"]) / 2**20
    assert grown < 100, f"RSS grew {grown:.1f} MB"

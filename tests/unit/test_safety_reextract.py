"""Issue 12, case 3: `blogarchive reextract` gives the crawl's extractor the same input,
site profiles included, so it reproduces the crawl's bodies."""

from __future__ import annotations

from archive.reextract import reextract
from archive.store import iter_records
from tests.conftest import run_crawl
from tests.httpserver import Route, SiteServer
from tests.unit.hostile import HTML, article, good_blog, text

TEMPLATE = "Unterstützen Sie unseren kleinen Blog mit einer Spende über das Formular am Ende."


def test_reextract_uses_the_site_profiles(tmp_path):
    archive_dir = tmp_path / "archive"
    routes = good_blog(16)
    for i in range(16):
        routes[f"/2024/01/post-{i}/"] = Route(
            200, article(f"Post {i}", [*text(1000 + i), TEMPLATE]).encode(), HTML
        )
    with SiteServer(routes) as site:
        proc = run_crawl([site.url], archive_dir, "EXTRACT_WORKERS=1", "AUTOTHROTTLE_ENABLED=False")
    assert proc.returncode == 0, proc.stderr[-2000:]
    crawled = {r.url: r for r in iter_records(archive_dir)}
    assert len(crawled) == 16
    assert not any(TEMPLATE in r.text for r in crawled.values())  # the profile removed it

    result = reextract(archive_dir, tmp_path / "again", workers=0)
    again = {r.url: r for r in iter_records(tmp_path / "again")}
    assert result.boilerplate.get(site.url)
    assert {u: r.content_hash for u, r in again.items()} == {
        u: r.content_hash for u, r in crawled.items()
    }
    without = reextract(archive_dir, tmp_path / "plain", workers=0, profiles=False)
    assert without.boilerplate == {}
    assert all(TEMPLATE in r.text for r in iter_records(tmp_path / "plain"))

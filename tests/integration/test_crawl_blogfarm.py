"""`scrapy crawl blogs` against the live WordPress of ../shared/blogfarm, one crawl per theme."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from archive.scoring import score_corpus
from archive.store import iter_records
from tests.blogfarm import BLOGFARM, THEMES
from tests.conftest import crawl_stats, run_crawl

pytestmark = pytest.mark.integration

BODY_F1_MIN = 0.995


def loose(text: str | None) -> str | None:
    """Typography aside: themes print ’ where the ground truth has ' (htmltext.loose)."""
    return text.replace("’", "'").replace("‘", "'") if text else text


@pytest.fixture(scope="module", params=sorted(THEMES))
def theme_crawl(request, blogfarm, tmp_path_factory):
    port = request.param
    archive_dir = tmp_path_factory.mktemp(f"crawl-{port}") / "archive"
    proc = run_crawl([f"http://127.0.0.1:{port}/"], archive_dir)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.log[-3000:]
    records = list(iter_records(archive_dir))
    return port, THEMES[port], records, archive_dir, proc.log


def _by_url(records):
    return {r.url: r for r in records}


def test_archives_every_post_and_page_exactly_once(theme_crawl, truth):
    port, theme, records, _, log = theme_crawl
    expected = {g["urls_by_theme"][theme]: g["type"] for g in truth}
    urls = [r.url for r in records]
    assert len(urls) == len(set(urls)), "a URL was archived twice"
    assert set(urls) == set(expected), (
        f"missing {set(expected) - set(urls)}; extra {set(urls) - set(expected)}"
    )
    assert {r.url: r.kind for r in records} == expected
    assert all(r.canonical_url == r.url for r in records)


def test_metadata_equals_groundtruth(theme_crawl, truth):
    _, theme, records, _, _ = theme_crawl
    got = _by_url(records)
    for g in truth:
        r = got[g["urls_by_theme"][theme]]
        assert r.title.split() == g["title"].split(), g["url"]  # the truth keeps WP's &nbsp;
        assert r.language == g["lang"], g["url"]
        if g["type"] == "page":
            continue  # no theme prints a page's author or date
        assert r.authors == [g["author"]], g["url"]
        assert r.published == datetime.fromisoformat(g["published"]), g["url"]
        assert sorted(r.categories) == sorted(g["categories"]), g["url"]
        assert sorted(r.tags) == sorted(g["tags"]), g["url"]
        assert r.site == f"http://127.0.0.1:{theme_crawl[0]}/"


def test_comments_equal_groundtruth_and_stay_out_of_text(theme_crawl, truth):
    _, theme, records, _, _ = theme_crawl
    got = _by_url(records)
    for g in truth:
        r = got[g["urls_by_theme"][theme]]
        expected = [
            (
                str(c["id"]),
                str(c["parent"]) if c["parent"] else None,
                loose(c["author"]),
                c["type"],
                c["text"].split(),
                datetime.fromisoformat(c["date"]),
            )
            for c in g["comments"]
        ]
        actual = [
            (c.id, c.parent_id, loose(c.author), c.type, c.text.split(), c.published)
            for c in r.comments
        ]
        assert actual == expected, g["url"]
        for c in g["comments"]:
            if len(c["text"]) > 30:
                assert c["text"] not in r.text, f"comment text in body of {g['url']}"


def test_body_text_f1(theme_crawl, truth):
    _, theme, records, _, _ = theme_crawl
    got = _by_url(records)
    pairs = [(g["body_text"], got[g["urls_by_theme"][theme]].text) for g in truth]
    score = score_corpus(pairs)
    assert score.f1 >= BODY_F1_MIN, f"{theme}: {score}"


def test_crawl_log_and_stats(theme_crawl):
    port, _, records, archive_dir, log = theme_crawl
    stats = crawl_stats(archive_dir)
    assert stats["blogarchive/archived/post"] == 42
    assert stats["blogarchive/archived/page"] == 4
    assert stats.get("blogarchive/feeds", 0) >= 1
    assert stats.get("blogarchive/sitemaps", 0) >= 2
    assert "progress: fetched" in log or "finished (finished)" in log
    assert f"finished (finished): fetched {stats['response_received_count']} responses" in log
    assert not list(Path(archive_dir).rglob("*.tmp"))


SEEDS = BLOGFARM.parent / "seeds"


def seed_boilerplate_lines(truth: list[dict]) -> set[str]:
    """Lines of the naive scrapes in ../shared/seeds that are no part of any true body."""
    bodies = "\n".join(g["body_text"] for g in truth)
    lines = set()
    for path in sorted(SEEDS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = " ".join(line.split())
            if len(line.split()) >= 3 and line not in bodies:
                lines.add(line)
    return lines


def test_no_seed_boilerplate_in_any_body(theme_crawl, truth):
    residue = seed_boilerplate_lines(truth)
    assert len(residue) > 20
    for record in theme_crawl[2]:
        text = " ".join(record.text.split())
        found = [line for line in residue if line in text]
        assert not found, f"{record.url}: {found[:3]}"


def test_site_profile_is_saved_and_auditable(theme_crawl):
    port, _, _, archive_dir, log = theme_crawl
    assert "site profile of http://127.0.0.1:" in log
    out = subprocess.run(
        ["blogarchive", "profile", str(archive_dir), "--json"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    report = json.loads(out)
    (entry,) = report.values()
    assert entry["pages"] == 46
    samples = [b["sample"] for b in entry["blocks"]]
    assert "Blogfarm Testblog" in samples  # the site title on every page


def theme_boilerplate_lines(port: int, truth: list[dict]) -> set[str]:
    """Text lines (3+ words) on at least 80% of a theme's recorded posts that belong to no
    true body: the theme's template, found independently of our extractor."""
    from collections import Counter

    from lxml import html as lxml_html

    from tests.blogfarm import recorded_page

    bodies = "\n".join(g["body_text"] for g in truth)
    counts: Counter[str] = Counter()
    pages = 0
    for g in truth:
        url = g["urls_by_theme"][THEMES[port]]
        tree = lxml_html.document_fromstring(recorded_page(url).body)
        for bad in tree.xpath("//script | //style | //noscript"):
            bad.drop_tree()
        lines = {" ".join(t.split()) for t in tree.find("body").itertext()}
        counts.update(line for line in lines if len(line.split()) >= 3)
        pages += 1
    return {line for line, n in counts.items() if n >= 0.8 * pages and line not in bodies}


def test_no_theme_template_text_in_any_body(theme_crawl, truth):
    port, _, records, _, _ = theme_crawl
    template = theme_boilerplate_lines(port, truth)
    assert template, "found no template lines: the check would prove nothing"
    for record in records:
        text = " ".join(record.text.split())
        found = [line for line in template if line in text]
        assert not found, f"{record.url}: {found[:3]}"

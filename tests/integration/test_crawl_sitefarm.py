"""`scrapy crawl blogs` from the home page of the sitefarm's static blogs (Jekyll + minima,
Hexo + landscape: ../shared/sitefarm, served by .ci/run), scored per field against their
ground truth by tests/groundtruth.py."""

from __future__ import annotations

import urllib.request

import pytest

from archive.store import iter_records
from tests.conftest import crawl_stats, run_crawl
from tests.groundtruth import FIELDS, SITEFARM, SITEFARM_SITES, score_records, truth_for_port

pytestmark = pytest.mark.integration

BODY_F1_MIN = 0.995
FIELD_MIN = 0.98


@pytest.fixture(scope="module", params=sorted(SITEFARM_SITES))
def site_crawl(request, tmp_path_factory):
    port = request.param
    site = f"http://127.0.0.1:{port}/"
    try:
        urllib.request.urlopen(site, timeout=5)
    except OSError:
        pytest.fail(f"sitefarm is not running: run  bash {SITEFARM}/serve.sh  first")
    archive_dir = tmp_path_factory.mktemp(f"sitefarm-{port}") / "archive"
    proc = run_crawl([site], archive_dir, "LOG_LEVEL=DEBUG")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.log[-3000:]
    records = list(iter_records(archive_dir))
    return port, records, archive_dir, proc.log


def test_every_post_and_page_once_under_the_linked_url(site_crawl):
    port, records, _, _ = site_crawl
    score = score_records(records, truth_for_port(port))
    assert not score.duplicates
    assert not score.missing, score.summary()
    assert not score.extra, score.summary()  # 0 listings archived
    assert not score.wrong_kind, score.summary()  # kind right, canonical_url == url
    assert all(r.canonical_url == r.url and not r.url.endswith("index.html") for r in records)


def test_fields_bodies_and_code_blocks(site_crawl):
    port, records, _, _ = site_crawl
    score = score_records(records, truth_for_port(port))
    assert score.body_f1 >= BODY_F1_MIN, score.summary()
    assert not score.code_wrong, score.summary()
    for name in FIELDS:
        assert score.field_ok[name] >= FIELD_MIN, score.summary()


def test_javascript_comments_are_not_captured_with_their_name(site_crawl):
    port, records, _, _ = site_crawl
    score = score_records(records, truth_for_port(port))
    assert not score.comments_wrong, score.summary()
    assert all(r.comments == [] for r in records)


def test_classification_votes_are_logged(site_crawl):
    port, records, archive_dir, log = site_crawl
    engine = SITEFARM_SITES[port].replace("minima", "jekyll")
    assert f"classified http://127.0.0.1:{port}/ as listing" in log
    assert f"'engine': '{engine}'" in log
    stats = crawl_stats(archive_dir)
    assert stats["blogarchive/archived/post"] == 42
    assert stats["blogarchive/archived/page"] == 4

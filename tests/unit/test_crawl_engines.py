"""Blogs built by real engines from the registries, crawled from the home page alone.

Pelican (its default theme `notmyidea`, which sets `class="home"` on every page's body and
prints the post's meta box inside its text) builds tests/engines/pelican/content; what the
crawl must find is what that content says."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import threading
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from archive.store import iter_records
from tests.conftest import run_crawl

SOURCES = Path(__file__).resolve().parents[1] / "engines"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def pelican_crawl(tmp_path_factory):
    work = tmp_path_factory.mktemp("pelican")
    shutil.copytree(SOURCES / "pelican", work / "site")
    subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", "output", "-q"],
        cwd=work / "site", check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    handler = functools.partial(_Quiet, directory=str(work / "site" / "output"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        proc = run_crawl([base], work / "archive", "EXTRACT_WORKERS=0", "LOG_LEVEL=DEBUG")
    finally:
        httpd.shutdown()
    assert proc.returncode == 0, proc.stderr[-2000:]
    return base, {r.url.removeprefix(base): r for r in iter_records(work / "archive")}, proc.log


def test_pelican_posts_and_pages_and_no_listing(pelican_crawl):
    _, records, log = pelican_crawl
    assert {path: r.kind for path, r in records.items()} == {
        "sauerteig-fuer-anfaenger.html": "post",
        "mit-dem-rad-zur-arbeit.html": "post",
        "pages/ueber-uns.html": "page",
    }
    assert "'engine': 'pelican'" in log
    assert all(r.canonical_url == r.url for r in records.values())


def test_pelican_metadata_as_the_content_says(pelican_crawl):
    _, records, _ = pelican_crawl
    post = records["sauerteig-fuer-anfaenger.html"]
    assert post.title == "Sauerteig für Anfänger"
    assert post.authors == ["Anna Berg"]
    assert post.published == datetime.fromisoformat("2023-08-27T14:30:00+02:00")
    assert (post.categories, post.tags) == (["Kochen"], ["Brot", "Sauerteig"])
    other = records["mit-dem-rad-zur-arbeit.html"]
    assert (other.authors, other.categories, other.tags) == (
        ["Tom Becker"],
        ["Alltag"],
        ["Fahrrad"],
    )
    assert other.published == datetime.fromisoformat("2022-03-05T08:00:00+01:00")
    assert records["pages/ueber-uns.html"].title == "Über uns"


def test_pelican_pygments_line_numbers_are_not_code(pelican_crawl):
    post = pelican_crawl[1]["sauerteig-fuer-anfaenger.html"]
    code = (
        "def fuettern(teig, tage):\n    for tag in range(tage):\n        teig += 1\n    return teig"
    )
    assert post.text.endswith(code)
    assert f"```\n{code}\n```" in post.markdown or f"```python\n{code}\n```" in post.markdown
    assert "Published:" not in post.text and "By Anna Berg" not in post.text

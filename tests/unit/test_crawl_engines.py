"""Blogs built by real engines from the registries, crawled from the home page alone.

Pelican (its default theme `notmyidea`, which sets `class="home"` on every page's body and
prints the post's meta box inside its text) builds tests/engines/pelican/, Material for MkDocs'
blog plugin (post meta in a sidebar, tags without links, `site_url` another host, so every
canonical points off the blog) tests/engines/mkdocs/; what the crawl must find is what that
content says."""

from __future__ import annotations

import functools
import os
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


def build_and_crawl(tmp_path_factory, engine: str, command: list[str]):
    """Build tests/engines/<engine> with `command` (into `output/`), serve it, crawl it."""
    work = tmp_path_factory.mktemp(engine)
    shutil.copytree(SOURCES / engine, work / "site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(command, cwd=work / "site", capture_output=True, timeout=180, env=env)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
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


@pytest.fixture(scope="module")
def pelican_crawl(tmp_path_factory):
    command = [sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", "output"]
    return build_and_crawl(tmp_path_factory, "pelican", command)


@pytest.fixture(scope="module")
def mkdocs_crawl(tmp_path_factory):
    command = [sys.executable, "-m", "mkdocs", "build", "-q", "-d", "output"]
    return build_and_crawl(tmp_path_factory, "mkdocs", command)


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


def test_mkdocs_blog_posts_pages_and_metadata(mkdocs_crawl):
    _, records, log = mkdocs_crawl
    assert {path: r.kind for path, r in records.items()} == {
        "blog/2023/08/27/sauerteig-fuer-anfaenger/": "post",
        "blog/2022/03/05/mit-dem-rad-zur-arbeit/": "post",
        "ueber-uns/": "page",
    }
    assert "'engine': 'mkdocs'" in log
    post = records["blog/2023/08/27/sauerteig-fuer-anfaenger/"]
    assert (post.title, post.authors) == ("Sauerteig für Anfänger", ["Anna Berg"])
    assert post.published.date().isoformat() == "2023-08-27"
    assert (post.categories, post.tags) == (["Kochen"], ["Brot", "Sauerteig"])
    other = records["blog/2022/03/05/mit-dem-rad-zur-arbeit/"]
    assert (other.categories, other.tags) == (["Alltag"], ["Fahrrad"])
    for record in records.values():  # canonical: https://blog.example/..., another site
        assert record.canonical_url == record.url
        assert record.declared_canonical_url.startswith("https://blog.example/")
    code = (
        "def fuettern(teig, tage):\n    for tag in range(tage):\n        teig += 1\n    return teig"
    )
    assert post.text.endswith(code)

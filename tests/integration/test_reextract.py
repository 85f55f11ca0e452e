"""Crawl the live blogfarm with raw capture, then `blogarchive reextract` with no network:
the same posts and pages, the same content hashes, every warc ref resolving."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive.store import iter_records
from archive.warc import read_response
from tests.blogfarm import ROOT
from tests.conftest import run_crawl

pytestmark = pytest.mark.integration

SITE = "http://127.0.0.1:18081/"
BLOGARCHIVE = [sys.executable, "-c", "import sys; from archive.cli import main; sys.exit(main())"]

#: Imported by every Python process of the command (workers too, via PYTHONPATH): any TCP
#: connection attempt is written to $NETGUARD_LOG and fails.
NETGUARD = """
import os, socket
_log = os.environ["NETGUARD_LOG"]
_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex
def _refuse(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        with open(_log, "a") as fh:
            fh.write(f"{os.getpid()} {address!r}\\n")
        raise OSError("network disabled by test_reextract")
socket.socket.connect = lambda s, a: (_refuse(s, a), _connect(s, a))[1]
socket.socket.connect_ex = lambda s, a: (_refuse(s, a), _connect_ex(s, a))[1]
"""


def offline_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    guard_dir = tmp_path / "netguard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(NETGUARD, encoding="utf-8")
    log = tmp_path / "netguard.log"
    proxy = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "PYTHONPATH": f"{guard_dir}{os.pathsep}{ROOT}",
        "NETGUARD_LOG": str(log),
        "http_proxy": proxy,
        "https_proxy": proxy,
        "HTTP_PROXY": proxy,
        "HTTPS_PROXY": proxy,
        "no_proxy": "",
    }
    return env, log


@pytest.fixture(scope="module")
def crawled(blogfarm: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive_dir = tmp_path_factory.mktemp("reextract-crawl") / "archive"
    proc = run_crawl([SITE], archive_dir)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.log[-3000:]  # type: ignore[attr-defined]
    return archive_dir


def test_the_network_guard_works(tmp_path: Path) -> None:
    """Otherwise the offline test below would prove nothing."""
    env, log = offline_env(tmp_path)
    code = f"import urllib.request; urllib.request.urlopen({SITE + 'robots.txt'!r}, timeout=5)"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert log.exists() and log.read_text()


def test_reextract_offline_reproduces_the_crawl(crawled: Path, tmp_path: Path) -> None:
    original = {r.url: r for r in iter_records(crawled)}
    assert len(original) >= 46  # 42 posts + 4 pages
    for record in original.values():  # every record points at its raw response
        assert record.warc is not None
        url, status, _headers, body = read_response(crawled, record.warc)
        assert (url, status) == (record.url, 200) and body

    out = tmp_path / "reextracted"
    env, log = offline_env(tmp_path)
    proc = subprocess.run(
        [*BLOGARCHIVE, "reextract", str(crawled), "-o", str(out), "--workers", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert not log.exists(), f"reextract tried to use the network: {log.read_text()}"

    again = {r.url: r for r in iter_records(out)}
    assert set(again) == set(original)
    assert {u: r.content_hash for u, r in again.items()} == {
        u: r.content_hash for u, r in original.items()
    }
    assert {u: (r.kind, r.canonical_url, r.site) for u, r in again.items()} == {
        u: (r.kind, r.canonical_url, r.site) for u, r in original.items()
    }
    for url, record in again.items():  # the new archive is self-contained
        assert record.warc == original[url].warc
        assert read_response(out, record.warc)[0] == url
    assert list((out / "records").iterdir()) == [out / "records" / "reextract"]


def test_reextract_refuses_to_write_into_the_source(crawled: Path) -> None:
    proc = subprocess.run(
        [*BLOGARCHIVE, "reextract", str(crawled), "-o", str(crawled)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "not ARCHIVE_DIR" in proc.stderr

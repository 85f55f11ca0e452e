"""benchmarks/crawl_bench.py end to end on a 30-post bigblog: every run and every field is
there. No timing assertions: this only checks that the benchmark measures and reports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIGBLOG = ROOT.parent / "shared" / "bigblog"
sys.path.insert(0, str(ROOT / "benchmarks"))

import crawl_bench  # noqa: E402
import procstat  # noqa: E402

POSTS = 30


class _StaticHandler(SimpleHTTPRequestHandler):
    """Serves the site as nginx does: `dir/` is `dir/index.html`, else `dir/index.rss`."""

    def translate_path(self, path: str) -> str:
        local = super().translate_path(path)
        if os.path.isdir(local) and not os.path.exists(os.path.join(local, "index.html")):
            rss = os.path.join(local, "index.rss")
            if os.path.exists(rss):
                return rss
        return local

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return "application/rss+xml" if str(path).endswith(".rss") else super().guess_type(path)

    def log_message(self, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def tiny_blog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    if not (BIGBLOG / "generate.py").exists():
        pytest.skip(f"no bigblog scripts at {BIGBLOG}")
    site_dir = tmp_path_factory.mktemp("bigblog")
    port = _free_port()
    crawl_bench.generate_site(site_dir, POSTS, port, BIGBLOG)
    handler = partial(_StaticHandler, directory=str(site_dir / "site"))
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield site_dir, port
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_procstat_measures_a_process_tree(tmp_path: Path) -> None:
    log = tmp_path / "log"
    code = (
        "import subprocess, sys, time\n"
        f"open({str(log)!r}, 'w').write('progress: fetched 1200 responses (1/s)\\n')\n"
        "child = subprocess.Popen([sys.executable, '-c', 'sum(range(3_000_000))'])\n"
        "sum(range(3_000_000)); child.wait(); time.sleep(0.3)\n"
    )
    m = procstat.measure([sys.executable, "-c", code], log_file=log, interval=0.05)
    assert m.returncode == 0
    assert m.main_cpu_s > 0 and m.wall_s > 0
    assert m.processes[0].role == "main" and m.processes[0].hwm_kb > 0
    assert m.rss_at_pages(1000) is not None and m.rss_end() is not None


def test_benchmark_prints_every_field(
    tiny_blog: tuple[Path, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site_dir, port = tiny_blog
    out = tmp_path / "results.json"
    assert crawl_bench.site_matches(site_dir, POSTS, port)
    code = crawl_bench.main(
        [
            "--posts",
            str(POSTS),
            "--site-dir",
            str(site_dir),
            "--port",
            str(port),
            "--out",
            str(out),
            "--workdir",
            str(tmp_path / "work"),
            "--interval",
            "0.1",
            "--concurrency",
            "8",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    for run in ("fetch", "extract_1", "parse_1", "full", "inline", "naive", "naive_ci4"):
        assert f"\n{run} " in printed, run
    for text in (
        "CPU-bound limit",
        "full / limit:",
        "full / naive:",
        "full / inline",
        "full / naive_ci4",
        "crawl process RSS (full):",
        "pages/s",
        "ms/page",
        "peak RSS MB",
    ):
        assert text in printed, text

    results = json.loads(out.read_text())
    assert not (tmp_path / "work").exists()  # removed without --keep
    for name in ("fetch", "full", "inline", "naive", "naive_ci4"):
        run = results[name]
        assert run["returncode"] == 0
        assert run["pages"] > POSTS
        for key in (
            "pages_per_s",
            "cpu_s",
            "cpu_ms_per_page",
            "cpu_crawl_process_s",
            "cpu_workers_s",
            "cpu_split",
            "peak_rss_mb",
            "rss_crawl_end",
        ):
            assert run[key] is not None, (name, key)
        assert run["peak_rss_mb"][0]["role"] == "main"
    assert results["full"]["archived"] == POSTS + 4  # the 4 static pages
    assert any(p["role"] == "worker" for p in results["full"]["peak_rss_mb"])
    assert results["full"]["cpu_workers_s"] > 0
    assert results["inline"]["cpu_workers_s"] == 0
    extract = results["extract_1"]
    assert extract["pages"] == results["fetch"]["pages"]
    assert extract["records"] == POSTS + 4
    derived = results["derived"]
    for key in (
        "limit_pages_per_s",
        "full_over_limit",
        "full_over_naive",
        "full_over_inline",
        "full_over_naive_ci4",
    ):
        assert derived[key] is not None, key


def test_benchmark_rejects_unknown_phases() -> None:
    with pytest.raises(SystemExit):
        crawl_bench.main(["--phases", "fetch,warp"])


def test_save_pages_round_trip(tmp_path: Path) -> None:
    """A pages file holds analyse_page's keyword dicts; the worker reads its shard."""
    import pickle

    pages = tmp_path / "pages.pickle"
    with open(pages, "wb") as fh:
        for i in range(5):
            pickle.dump({"body": b"<html><body>x</body></html>", "url": f"http://a/{i}"}, fh)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from extract_worker import iter_pages

    assert [p["url"] for p in iter_pages(pages, 1, 2)] == ["http://a/1", "http://a/3"]
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "extract_worker.py"),
            str(pages),
            "--out",
            str(tmp_path / "r.json"),
            "--no-wait",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["pages"] == 5 and data["hwm_kb"] > 0

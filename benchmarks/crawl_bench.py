"""Crawl throughput benchmark: how close does the crawl come to the machine's CPU limit?

    python benchmarks/crawl_bench.py [--posts 10000] [--site-dir /var/tmp/bigblog]
                                     [--port 19080] [--out results.json]

Generates the bigblog site (../shared/bigblog/generate.py) if `--site-dir` does not hold one
of `--posts` posts for `--port`, serves it with nginx (../shared/bigblog/serve.sh) if nothing
answers on the port, and measures on the same pages, with the blog's politeness caps lifted
(`CONCURRENT_REQUESTS_PER_DOMAIN`, no AutoThrottle, no delay; robots.txt still obeyed):

1. fetch     `scrapy crawl blogs -s EXTRACTION_ENABLED=False` (discover, fetch, classify, WARC)
2. extract   `analyse_page` over the HTML pages the fetch-only crawl stored in its WARC, in 1
             worker process and in one per core (plus parse-only: `extract=False`, the part
             of the work the fetch-only crawl already does)
3. full      `scrapy crawl blogs` with the project's defaults (workers, WARC, state, archive)
4. inline    the same with `-s EXTRACT_WORKERS=0`: extraction on the reactor thread
5. naive     benchmarks/naive_spider.py: trafilatura.extract() in the spider callback, with
             Scrapy's defaults; and `naive_ci4`, the same with CONCURRENT_ITEMS=4 (the Scrapy
             setting blogarchive changes that speeds up any spider), for reference

and prints, per run, pages/s, CPU seconds per page (crawl process + workers), the CPU split
and the peak RSS of every process, then the CPU-bound limit
``cores / (CPU s/page fetch-only + CPU s/page extraction-only with 1 worker)`` and the
ratios full/limit (target >= 0.9) and full/naive (target >= 2), and the crawl process's RSS
growth from ~1,000 responses to the end (target < 100 MB). See benchmarks/README.md.

A "page" is an HTML page the crawl handled (`blogarchive/pages_fetched`; the naive spider's
`naive/pages`); feeds, sitemaps and robots.txt are responses but not pages.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from procstat import Measurement, measure  # noqa: E402

BIGBLOG = ROOT.parent / "shared" / "bigblog"
PHASES = ("fetch", "extract", "full", "inline", "naive")
RSS_PAGE = 1000  # RSS growth is measured from this many responses to the end
MB = 1024.0  # kB per MB


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# --------------------------------------------------------------------------------------------
# The site
# --------------------------------------------------------------------------------------------


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def site_matches(site_dir: Path, posts: int, port: int) -> bool:
    try:
        meta = json.loads((site_dir / "site.json").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("posts") == posts and meta.get("base_url") == base_url(port)


def generate_site(site_dir: Path, posts: int, port: int, bigblog: Path = BIGBLOG) -> None:
    print(f"generating {posts} posts into {site_dir} ...", flush=True)
    subprocess.run(
        [
            sys.executable,
            str(bigblog / "generate.py"),
            "--out",
            str(site_dir),
            "--posts",
            str(posts),
            "--base-url",
            base_url(port),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def server_answers(port: int) -> str | None:
    """The Server header of whatever answers /robots.txt on the port, or None."""
    try:
        with urllib.request.urlopen(base_url(port) + "/robots.txt", timeout=5) as response:
            return response.headers.get("Server", "")
    except (OSError, urllib.error.URLError):
        return None


def serve_site(site_dir: Path, port: int, bigblog: Path = BIGBLOG) -> None:
    subprocess.run(["sh", str(bigblog / "serve.sh"), str(site_dir / "site"), str(port)], check=True)


def stop_site(port: int, bigblog: Path = BIGBLOG) -> None:
    subprocess.run(["sh", str(bigblog / "stop.sh"), str(port)], check=False)


def warm_page_cache(site_dir: Path) -> None:
    """Read every file once, so that the first crawl does not pay for a cold disk cache."""
    for path in (site_dir / "site").rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                while fh.read(1 << 20):
                    pass


# --------------------------------------------------------------------------------------------
# Crawls
# --------------------------------------------------------------------------------------------


def lifted_caps(concurrency: int) -> list[str]:
    return [
        f"CONCURRENT_REQUESTS={concurrency}",
        f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
        "AUTOTHROTTLE_ENABLED=False",
        "DOWNLOAD_DELAY=0",
    ]


def project_crawl_cmd(site: str, workdir: Path, name: str, extra: Sequence[str]) -> list[str]:
    settings = [
        f"ARCHIVE_DIR={workdir / name / 'archive'}",  # fresh: no crawl state, no skipped pages
        f"STATS_FILE={workdir / name / 'stats.json'}",
        f"LOG_FILE={workdir / name / 'crawl.log'}",
        "PROGRESS_INTERVAL=1",
        *extra,
    ]
    cmd = [sys.executable, "-m", "scrapy", "crawl", "blogs", "-a", f"site={site}/"]
    for setting in settings:
        cmd += ["-s", setting]
    return cmd


def naive_crawl_cmd(site: str, workdir: Path, name: str, extra: Sequence[str]) -> list[str]:
    settings = [
        f"STATS_FILE={workdir / name / 'stats.json'}",
        f"LOG_FILE={workdir / name / 'crawl.log'}",
        "LOG_LEVEL=INFO",
        "LOGSTATS_INTERVAL=1",
        "ROBOTSTXT_OBEY=True",
        "TELNETCONSOLE_ENABLED=False",
        *extra,
    ]
    cmd = [
        sys.executable,
        "-m",
        "scrapy",
        "runspider",
        str(BENCH / "naive_spider.py"),
        "-a",
        f"site={site}/",
        "-o",
        str(workdir / name / "items.jsonl"),
    ]
    for setting in settings:
        cmd += ["-s", setting]
    return cmd


def crawl_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def summarise_crawl(
    name: str, cmd: Sequence[str], m: Measurement, stats: dict[str, Any], naive: bool = False
) -> dict[str, Any]:
    """The numbers of one crawl, from its measurement and its final stats."""
    responses = int(stats.get("response_received_count", 0))
    if naive:
        pages = int(stats.get("naive/pages", 0))
        archived = int(stats.get("naive/extracted", 0))
    else:
        pages = int(stats.get("blogarchive/pages_fetched", 0))
        archived = int(stats.get("blogarchive/archived/post", 0)) + int(
            stats.get("blogarchive/archived/page", 0)
        )
    cpu = m.cpu_total_s
    workers = m.role_cpu("worker")
    other = cpu - m.main_cpu_s - workers
    at_page = m.rss_at_pages(RSS_PAGE)
    end = m.rss_end()
    per_page = cpu / pages if pages else None
    return {
        "name": name,
        "command": " ".join(cmd),
        "returncode": m.returncode,
        "wall_s": round(m.wall_s, 3),
        "spider_s": round(float(stats.get("elapsed_time_seconds", 0.0)), 3),
        "responses": responses,
        "pages": pages,
        "archived": archived,
        "pages_per_s": round(pages / m.wall_s, 2) if m.wall_s else None,
        "responses_per_s": round(responses / m.wall_s, 2) if m.wall_s else None,
        "archived_per_s": round(archived / m.wall_s, 2) if m.wall_s else None,
        "cpu_s": round(cpu, 3),
        "cpu_crawl_process_s": round(m.main_cpu_s, 3),
        "cpu_workers_s": round(workers, 3),
        "cpu_other_s": round(other, 3),  # forkserver, resource tracker, unsampled rest
        "cpu_rusage_s": round(m.rusage_total_s, 3),
        "cpu_ms_per_page": round(per_page * 1000, 3) if per_page else None,
        "cpu_split": {
            "crawl_process": round(m.main_cpu_s / cpu, 3) if cpu else None,
            "workers": round(workers / cpu, 3) if cpu else None,
            "other": round(other / cpu, 3) if cpu else None,
        },
        "cores_busy": round(cpu / m.wall_s, 2) if m.wall_s else None,
        "peak_rss_mb": [
            {
                "pid": p.pid,
                "role": p.role,
                "peak_mb": round(p.hwm_kb / MB, 1),
                "cpu_s": round(p.cpu_s, 3),
            }
            for p in m.processes
        ],
        "rss_crawl_at_page": (
            {"responses": at_page[0], "mb": round(at_page[1] / MB, 1)} if at_page else None
        ),
        "rss_crawl_end": {"responses": end[0], "mb": round(end[1] / MB, 1)} if end else None,
        "rss_growth_mb": round((end[1] - at_page[1]) / MB, 1) if at_page and end else None,
        "timeline": [(round(t, 2), n, round(rss / MB, 1)) for t, n, rss in m.timeline],
        "stats": {
            k: v
            for k, v in stats.items()
            if k.startswith(("blogarchive/", "naive/", "downloader/response_status", "item_"))
            or k in ("response_received_count", "elapsed_time_seconds", "finish_reason")
        },
    }


def run_crawl(
    name: str, cmd: list[str], workdir: Path, *, naive: bool = False, interval: float = 0.25
) -> dict[str, Any]:
    out = workdir / name
    out.mkdir(parents=True, exist_ok=True)
    print(f"[{name}] {' '.join(cmd)}", flush=True)
    m = measure(
        cmd,
        cwd=out if naive else ROOT,  # the naive spider: no scrapy.cfg, Scrapy's defaults
        env=crawl_env(),
        log_file=out / "crawl.log",
        interval=interval,
    )
    try:
        stats = json.loads((out / "stats.json").read_text())
    except (OSError, ValueError):
        stats = {}
    result = summarise_crawl(name, cmd, m, stats, naive=naive)
    if m.returncode != 0 or not result["pages"]:
        tail = (
            (out / "crawl.log").read_text(errors="replace")[-3000:]
            if (out / "crawl.log").exists()
            else ""
        )
        raise RuntimeError(
            f"{name}: crawl failed (exit {m.returncode}, {result['pages']} pages)\n{tail}"
        )
    print(f"[{name}] {one_line(result)}", flush=True)
    return result


# --------------------------------------------------------------------------------------------
# Extraction only
# --------------------------------------------------------------------------------------------

_PAGE_CALLBACKS = ("parse_page", "parse_home")


def save_pages(archive_dir: Path, out: Path) -> int:
    """The HTML pages a crawl stored in its WARC, as `analyse_page` keyword dicts (the
    arguments `BlogsSpider.parse_page` gives it; as `blogarchive reextract` rebuilds them)."""
    from archive import warc
    from archive.reextract import _encoding, _Hints, _is_html
    from crawler.urls import url_key

    hints = _Hints()
    for response, fields in warc.iter_responses_with_fields(archive_dir):
        callback = fields.get(warc.CALLBACK_HEADER)
        if 200 <= response.status < 300 and callback == "parse_sitemap":
            hints.add_sitemap(response.body, response.url)
        elif 200 <= response.status < 300 and callback == "parse_feed":
            hints.add_feed(response.body, response.url)
    count = 0
    with open(out, "wb") as fh:
        for response, fields in warc.iter_responses_with_fields(archive_dir):
            callback = fields.get(warc.CALLBACK_HEADER)
            if callback not in _PAGE_CALLBACKS or not 200 <= response.status < 300:
                continue
            if not _is_html(response.headers, response.body):
                continue
            site = fields.get(warc.SITE_HEADER) or response.url
            request_url = fields.get(warc.REDIRECTED_FROM_HEADER) or response.url
            source = fields.get(warc.HINTS_HEADER)
            kwargs = {
                "body": response.body,
                "url": response.url,
                "encoding": _encoding(
                    response.url, response.status, response.headers, response.body
                ),
                "hints": hints.for_page(request_url, source) if source else None,
                "site": site,
                "status": response.status,
                "fetched_at": response.fetched_at,
                "site_root": url_key(response.url) == url_key(site),
            }
            pickle.dump(kwargs, fh, protocol=pickle.HIGHEST_PROTOCOL)
            count += 1
    return count


def run_extraction(
    name: str, pages_file: Path, workdir: Path, workers: int, *, extract: bool = True
) -> dict[str, Any]:
    """`analyse_page` over the saved pages in `workers` processes started together."""
    out = workdir / name
    out.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[str]] = []
    for shard in range(workers):
        cmd = [
            sys.executable,
            str(BENCH / "extract_worker.py"),
            str(pages_file),
            "--shard",
            str(shard),
            "--of",
            str(workers),
            "--out",
            str(out / f"{shard}.json"),
        ]
        if not extract:
            cmd.append("--no-extract")
        procs.append(
            subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=crawl_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{name}: an extraction worker did not start")
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        if proc.wait() != 0:
            raise RuntimeError(f"{name}: an extraction worker failed (exit {proc.returncode})")
    wall = time.perf_counter() - started
    shards = [json.loads((out / f"{i}.json").read_text()) for i in range(workers)]
    pages = sum(s["pages"] for s in shards)
    cpu = sum(s["cpu_s"] for s in shards)
    kinds: dict[str, int] = {}
    for s in shards:
        for kind, n in s["kinds"].items():
            kinds[kind] = kinds.get(kind, 0) + n
    result = {
        "name": name,
        "workers": workers,
        "extract": extract,
        "pages": pages,
        "records": sum(s["records"] for s in shards),
        "errors": sum(s["errors"] for s in shards),
        "kinds": kinds,
        "wall_s": round(wall, 3),
        "pages_per_s": round(pages / wall, 2) if wall else None,
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_page": round(cpu / pages * 1000, 3) if pages else None,
        "analyse_cpu_ms_per_page": round(sum(s["analyse_cpu_s"] for s in shards) / pages * 1000, 3)
        if pages
        else None,
        "warmup_s": round(max(s["warmup_s"] for s in shards), 3),
        "peak_rss_mb": [{"role": "worker", "peak_mb": round(s["hwm_kb"] / MB, 1)} for s in shards],
    }
    print(f"[{name}] {one_line(result)}", flush=True)
    return result


# --------------------------------------------------------------------------------------------
# The verdict
# --------------------------------------------------------------------------------------------


def _per_page_s(result: dict[str, Any] | None) -> float | None:
    if not result or not result.get("cpu_ms_per_page"):
        return None
    return float(result["cpu_ms_per_page"]) / 1000


def derive(results: dict[str, Any], ncores: int) -> dict[str, Any]:
    """The CPU-bound limit and the ratios to their targets."""
    fetch, extract1 = _per_page_s(results.get("fetch")), _per_page_s(results.get("extract_1"))
    parse1 = _per_page_s(results.get("parse_1"))
    limit = ncores / (fetch + extract1) if fetch and extract1 else None
    strict = (
        ncores / (fetch + extract1 - parse1) if fetch and extract1 and parse1 else None
    )  # counts the HTML parse/classify/links once (both runs do it)
    full, naive, inline, naive_ci4 = (
        results.get(k) for k in ("full", "naive", "inline", "naive_ci4")
    )

    def ratio(a: dict[str, Any] | None, b: float | None) -> float | None:
        if not a or not b or not a.get("pages_per_s"):
            return None
        return round(float(a["pages_per_s"]) / b, 3)

    return {
        "cores": ncores,
        "limit_pages_per_s": round(limit, 2) if limit else None,
        "limit_single_parse_pages_per_s": round(strict, 2) if strict else None,
        "full_over_limit": ratio(full, limit),
        "full_over_limit_single_parse": ratio(full, strict),
        "full_over_naive": ratio(full, naive["pages_per_s"] if naive else None),
        "full_over_inline": ratio(full, inline["pages_per_s"] if inline else None),
        "full_over_naive_ci4": ratio(full, naive_ci4["pages_per_s"] if naive_ci4 else None),
        "naive_is": "naive: benchmarks/naive_spider.py (trafilatura.extract in parse)",
        "rss_growth_mb": full.get("rss_growth_mb") if full else None,
        "targets": {"full_over_limit": 0.9, "full_over_naive": 2.0, "rss_growth_mb": 100},
    }


def one_line(r: dict[str, Any]) -> str:
    parts = [
        f"{r['pages']} pages in {r['wall_s']:.1f} s = {r['pages_per_s']} pages/s",
        f"CPU {r['cpu_s']:.1f} s = {r['cpu_ms_per_page']} ms/page",
    ]
    if "cpu_split" in r:
        split = r["cpu_split"]
        parts.append(
            f"split crawl {split['crawl_process']:.0%} / workers {split['workers']:.0%}"
            if split["crawl_process"] is not None
            else "split n/a"
        )
        parts.append(f"archived {r['archived']}")
    peaks = ", ".join(
        f"{p['role']} {p['peak_mb']:.0f}"
        for p in r["peak_rss_mb"]
        if p["role"] in ("main", "worker") and p["peak_mb"]
    )
    parts.append(f"peak RSS MB: {peaks}")
    return "; ".join(parts)


def _fmt(value: Any, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def report(results: dict[str, Any], derived: dict[str, Any]) -> str:
    lines = [
        f"{'run':<10} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'CPU s':>7} {'ms/page':>8} "
        f"{'crawl%':>6} {'work%':>6} {'peak RSS MB (crawl; workers)':<30}"
    ]
    for key in (
        "fetch",
        "extract_1",
        f"extract_{derived['cores']}",
        "parse_1",
        "full",
        "inline",
        "naive",
        "naive_ci4",
    ):
        r = results.get(key)
        if not r:
            continue
        split = r.get("cpu_split") or {}
        peaks = r["peak_rss_mb"]
        main = [p["peak_mb"] for p in peaks if p["role"] == "main"]
        workers = [p["peak_mb"] for p in peaks if p["role"] == "worker" and p["peak_mb"]]
        peak_text = (f"{main[0]:.0f}; " if main else "-; ") + (
            ", ".join(f"{w:.0f}" for w in workers) or "-"
        )
        lines.append(
            f"{key:<10} {r['pages']:>6} {r['wall_s']:>7.1f} {_fmt(r['pages_per_s'], '.1f'):>8} "
            f"{r['cpu_s']:>7.1f} {_fmt(r['cpu_ms_per_page'], '.2f'):>8} "
            f"{_fmt(split.get('crawl_process'), '.0%'):>6} {_fmt(split.get('workers'), '.0%'):>6} "
            f"{peak_text:<30}"
        )
    d = derived
    full = results.get("full") or {}
    at, end = full.get("rss_crawl_at_page"), full.get("rss_crawl_end")

    def verdict(value: float | None, target: float, higher: bool = True) -> str:
        if value is None:
            return ""
        ok = value >= target if higher else value < target
        return "  (target " + ("≥ " if higher else "< ") + f"{target}: {'met' if ok else 'MISSED'})"

    lines += [
        "",
        f"cores: {d['cores']}",
        f"CPU-bound limit = cores / (fetch + extract_1 CPU s/page): "
        f"{_fmt(d['limit_pages_per_s'])} pages/s",
        f"  (counting the HTML parse/classify/links once, i.e. minus parse_1: "
        f"{_fmt(d['limit_single_parse_pages_per_s'])} pages/s)",
        f"full / limit: {_fmt(d['full_over_limit'])}{verdict(d['full_over_limit'], 0.9)}"
        f"   [single-parse limit: {_fmt(d['full_over_limit_single_parse'])}]",
        f"full / naive: {_fmt(d['full_over_naive'])}{verdict(d['full_over_naive'], 2.0)}"
        f"   [{d['naive_is']}]",
        f"full / inline (same spider, EXTRACT_WORKERS=0): {_fmt(d['full_over_inline'])}",
        f"full / naive_ci4 (the naive spider with CONCURRENT_ITEMS=4, for reference): "
        f"{_fmt(d['full_over_naive_ci4'])}",
        "crawl process RSS (full): "
        + (f"{at['mb']} MB at {at['responses']} responses, " if at else f"- at {RSS_PAGE}, ")
        + (f"{end['mb']} MB at the end ({end['responses']} responses)" if end else "-")
        + f"; growth {_fmt(d['rss_growth_mb'])} MB"
        + verdict(d["rss_growth_mb"], 100, higher=False),
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def run_benchmark(
    site: str,
    workdir: Path,
    *,
    phases: Iterable[str] = PHASES,
    concurrency: int = 32,
    ncores: int | None = None,
    interval: float = 0.25,
) -> dict[str, Any]:
    """Every phase against the blog served at `site`; results by run name, and `derived`."""
    phases = set(phases)
    ncores = ncores or cores()
    caps = lifted_caps(concurrency)
    results: dict[str, Any] = {}
    if phases & {"fetch", "extract"}:
        cmd = project_crawl_cmd(site, workdir, "fetch", [*caps, "EXTRACTION_ENABLED=False"])
        results["fetch"] = run_crawl("fetch", cmd, workdir, interval=interval)
    if "extract" in phases:
        pages_file = workdir / "pages.pickle"
        saved = save_pages(workdir / "fetch" / "archive", pages_file)
        print(f"[extract] {saved} HTML pages saved from the fetch-only WARC", flush=True)
        shutil.rmtree(workdir / "fetch" / "archive", ignore_errors=True)
        results["extract_1"] = run_extraction("extract_1", pages_file, workdir, 1)
        if ncores > 1:
            results[f"extract_{ncores}"] = run_extraction(
                f"extract_{ncores}", pages_file, workdir, ncores
            )
        results["parse_1"] = run_extraction("parse_1", pages_file, workdir, 1, extract=False)
        pages_file.unlink()
    shutil.rmtree(workdir / "fetch" / "archive", ignore_errors=True)
    for name, extra in (("full", []), ("inline", ["EXTRACT_WORKERS=0"])):
        if name in phases:
            cmd = project_crawl_cmd(site, workdir, name, [*caps, *extra])
            results[name] = run_crawl(name, cmd, workdir, interval=interval)
            shutil.rmtree(workdir / name / "archive", ignore_errors=True)
    if "naive" in phases:
        for name, extra in (("naive", []), ("naive_ci4", ["CONCURRENT_ITEMS=4"])):
            cmd = naive_crawl_cmd(site, workdir, name, [*caps, *extra])
            results[name] = run_crawl(name, cmd, workdir, naive=True, interval=interval)
            (workdir / name / "items.jsonl").unlink(missing_ok=True)
    results["derived"] = derive(results, ncores)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10000, help="posts of the bigblog site")
    parser.add_argument("--site-dir", type=Path, default=Path("/var/tmp/bigblog"))
    parser.add_argument("--port", type=int, default=19080)
    parser.add_argument("--out", type=Path, help="write all results as JSON here")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"subset of {PHASES}")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="CONCURRENT_REQUESTS and CONCURRENT_REQUESTS_PER_DOMAIN",
    )
    parser.add_argument("--cores", type=int, help="cores for the limit (default: usable CPUs)")
    parser.add_argument("--workdir", type=Path, help="crawl outputs (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir (logs, stats)")
    parser.add_argument("--keep-serving", action="store_true", help="leave nginx running")
    parser.add_argument("--interval", type=float, default=0.25, help="sampling interval, s")
    parser.add_argument("--bigblog", type=Path, default=BIGBLOG, help="bigblog scripts")
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if unknown := set(phases) - set(PHASES):
        parser.error(f"unknown phases: {sorted(unknown)}")

    regenerated = False
    if not site_matches(args.site_dir, args.posts, args.port):
        generate_site(args.site_dir, args.posts, args.port, args.bigblog)
        regenerated = True
    server = server_answers(args.port)
    started_server = False
    if server is not None and regenerated:
        stop_site(args.port, args.bigblog)  # nginx caches open files: restart it
        server = None
    if server is None:
        serve_site(args.site_dir, args.port, args.bigblog)
        started_server = True
        server = server_answers(args.port) or ""
    if "nginx" not in server.lower():
        print(
            f"warning: the site is served by {server or 'an unknown server'}, not nginx: "
            "the numbers may measure the server",
            file=sys.stderr,
        )
    warm_page_cache(args.site_dir)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="crawl-bench-", dir="/var/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = run_benchmark(
            base_url(args.port),
            workdir,
            phases=phases,
            concurrency=args.concurrency,
            ncores=args.cores,
            interval=args.interval,
        )
    finally:
        if started_server and not args.keep_serving:
            stop_site(args.port, args.bigblog)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    results["setup"] = {
        "posts": args.posts,
        "site": base_url(args.port),
        "server": server,
        "concurrency": args.concurrency,
        "python": sys.version.split()[0],
        "loadavg_at_end": os.getloadavg(),
        "workdir": str(workdir) if args.keep else None,
    }
    print()
    print(report(results, results["derived"]))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=str))
        print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

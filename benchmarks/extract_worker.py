"""One extraction-only worker of crawl_bench.py: `analyse_page` over saved pages, timed.

    python benchmarks/extract_worker.py PAGES --shard I --of N --out RESULT.json [--no-extract]

PAGES is a file of pickled `analyse_page` keyword dicts, one after the other (written by
crawl_bench.save_pages). The worker takes every N-th page starting at I, warms up on its
first 10 pages (imports, language model, caches: reported as `warmup_s`, not timed), prints
`ready`, waits for a line on stdin (so that N workers start together), then analyses its
pages and writes what it measured as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import pickle
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

WARMUP_PAGES = 10  # analysed once untimed first, then again in the timed loop
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def iter_pages(path: Path, shard: int = 0, of: int = 1) -> Iterator[dict[str, Any]]:
    """The pages of one shard of a pages file."""
    with open(path, "rb") as fh:
        index = 0
        while True:
            try:
                page = pickle.load(fh)
            except EOFError:
                return
            if index % of == shard:
                yield page
            index += 1


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _memory_kb() -> dict[str, int]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line.split(":")[0]] = int(line.split()[1])
    return found


def run(path: Path, shard: int, of: int, extract: bool, wait: bool) -> dict[str, Any]:
    from crawler.extract.page import PageError, analyse_page

    pages = iter_pages(path, shard, of)
    first = list(itertools.islice(pages, WARMUP_PAGES))
    warm_start = time.perf_counter()
    for page in first:  # the home page comes first: warm up on posts too (language model)
        with contextlib.suppress(PageError):
            analyse_page(**{**page, "extract": extract})
    warmup = time.perf_counter() - warm_start
    if wait:
        print("ready", flush=True)
        sys.stdin.readline()
    kinds: Counter[str] = Counter()
    records = errors = count = 0
    analyse_cpu = 0.0
    cpu0, wall0 = _cpu(), time.perf_counter()
    for page in _chain(first, pages):
        count += 1
        before = time.process_time()
        try:
            analysis = analyse_page(**{**page, "extract": extract})
        except PageError:
            errors += 1
        else:
            kinds[analysis.kind] += 1
            records += analysis.record is not None
        analyse_cpu += time.process_time() - before
    return {
        "shard": shard,
        "of": of,
        "extract": extract,
        "pages": count,
        "records": records,
        "errors": errors,
        "kinds": dict(kinds),
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": _cpu() - cpu0,
        "analyse_cpu_s": analyse_cpu,
        "warmup_s": warmup,
        "rss_kb": _memory_kb().get("VmRSS", 0),
        "hwm_kb": _memory_kb().get("VmHWM", 0),
    }


def _chain(first: list[dict[str, Any]], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from first
    yield from rest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", type=Path)
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--of", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-extract", action="store_true", help="analyse_page(extract=False)")
    parser.add_argument("--no-wait", action="store_true", help="start at once")
    args = parser.parse_args(argv)
    result = run(args.pages, args.shard, args.of, not args.no_extract, not args.no_wait)
    args.out.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

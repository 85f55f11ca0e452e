"""The ``extract`` and ``eval`` subcommands of ``blogarchive`` (registered in archive.cli).

``extract`` runs the crawl's page analysis on HTML outside a crawl: one file, or a JSONL of
``{"id", "url", "html"}`` records through a process pool, one JSON record out per line in
input order. ``eval`` scores our body extractor against trafilatura's defaults on a benchmark
directory (``html/<id>.html.gz`` + ``ground-truth.json``) and, optionally, a blogfarm crawl
archive against its ground truth.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import itertools
import json
import logging
import os
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import orjson

from archive.scoring import CorpusScore, score_corpus, score_document, split_truth
from crawler.extract.safeurl import urlsplit

T = TypeVar("T")
R = TypeVar("R")

_BATCH = 512  # input lines read ahead per pool round (bounds memory on huge inputs)


def _command_error(message: str) -> Exception:
    """archive.cli.CommandError (imported late: cli imports this module while loading)."""
    from archive.cli import CommandError

    return CommandError(message)


def _quiet_trafilatura(args: argparse.Namespace) -> None:
    """trafilatura warns about every odd link on stderr; keep that for -v."""
    if not getattr(args, "verbose", False):
        logging.getLogger("trafilatura").setLevel(logging.ERROR)


def _dump(obj: Any, *, pretty: bool = False) -> str:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 if pretty else 0).decode("utf-8")


def _default_workers() -> int:
    return os.cpu_count() or 1


def _workers_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=_default_workers(),
        metavar="N",
        help="worker processes (default: the CPU count, %(default)s; 1 runs in-process)",
    )


@contextlib.contextmanager
def _progress(description: str, total: int | None) -> Iterator[Callable[[int], None] | None]:
    """An advance(n) callback drawing a rich bar on stderr, only if stderr is a terminal."""
    if not sys.stderr.isatty() or total == 0:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def _ordered_map(
    func: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    on_done: Callable[[int], None] | None = None,
) -> Iterator[R]:
    """func over items, results in input order; a process pool when workers > 1."""
    advance = on_done or (lambda _n: None)
    if workers <= 1:
        for item in items:
            result = func(item)
            advance(1)
            yield result
        return
    it = iter(items)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        while batch := list(itertools.islice(it, _BATCH)):
            chunksize = max(1, len(batch) // (workers * 4))
            for result in pool.map(func, batch, chunksize=chunksize):
                advance(1)
                yield result


# --------------------------------------------------------------------------------------------
# extract
# --------------------------------------------------------------------------------------------


def sniff_encoding(body: bytes) -> str:
    """The charset of an HTML file: its BOM, else its <meta> declaration, else UTF-8."""
    import codecs

    from w3lib.encoding import html_body_declared_encoding, read_bom

    bom, _ = read_bom(body)
    declared = bom or html_body_declared_encoding(body)
    if declared:
        with contextlib.suppress(LookupError):
            return codecs.lookup(declared).name
    return "utf-8"


def _site_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/" if parts.scheme and parts.netloc else url


def extract_record(body: bytes, url: str, encoding: str | None = None) -> dict[str, Any]:
    """The PostRecord of one page as a JSON-ready dict, or ``{"url", "error"}``.

    Without a URL (`url` empty) the record is an ExtractedRecord: its URL fields are null.

    Runs the crawl's `analyse_page`; a page it classifies as a listing is extracted as a post
    anyway (the caller asked for this page's record).
    """
    from crawler.extract.page import PageError, analyse_page, build_record, decode_html, parse_html

    site = _site_of(url)
    try:
        analysis = analyse_page(body, url, encoding=encoding, site=site)
        record, reason = analysis.record, analysis.skip_reason
        if analysis.kind == "listing":
            tree = parse_html(decode_html(body, encoding))
            record, reason = build_record(
                tree, url, "post", hints=None, site=site, status=200, fetched_at=None
            )
    except PageError as exc:
        return {"url": url, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one bad page must not end a batch
        return {"url": url, "error": f"{type(exc).__name__}: {exc}"}
    if record is None:
        return {"url": url, "error": reason or "no record"}
    return record.model_dump(mode="json")


def _extract_line(line: str) -> str:
    """One JSONL input line ``{"id", "url", "html"}`` -> one JSON output line (in a worker)."""
    ident: Any = None
    url: Any = None
    try:
        item = json.loads(line)
        if not isinstance(item, dict):
            raise ValueError("not a JSON object")
        ident, url, html = item.get("id"), item.get("url"), item.get("html")
        if url is not None and not isinstance(url, str):
            raise ValueError('"url" is not a string')
        if not isinstance(html, str):
            raise ValueError('missing "html" (a string)')
    except ValueError as exc:
        return _dump({"id": ident, "url": url, "error": f"bad input line: {exc}"})
    record = extract_record(html.encode("utf-8", errors="surrogatepass"), url or "", "utf-8")
    return _dump({"id": ident, **record})


def add_extract_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``blogarchive extract``."""
    parser.add_argument("page", metavar="PAGE.html", type=Path, nargs="?", help="an HTML file")
    parser.add_argument("--url", help="the page's URL (resolves links, names the record); optional")
    parser.add_argument(
        "--input",
        metavar="FILE",
        help='JSONL of {"id", "url", "html"} records ("-" for stdin; "url" optional): one JSON '
        "record out per line, in input order, carrying the input id; failed pages give "
        '{"id", "url", "error"}',
    )
    _workers_arg(parser)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def run_extract(args: argparse.Namespace) -> int:
    """Extract the record of a page (PAGE.html --url URL) or of each line of --input as JSON."""
    if (args.page is None) == (args.input is None):
        raise _command_error("give either PAGE.html (optionally with --url) or --input FILE")
    if args.workers < 1:
        raise _command_error("--workers must be at least 1")
    _quiet_trafilatura(args)
    if args.page is not None:
        body = args.page.read_bytes()
        record = extract_record(body, args.url or "", sniff_encoding(body))
        if "error" in record:
            print(f"blogarchive: {args.page}: {record['error']}", file=sys.stderr)
            return 1
        print(_dump(record, pretty=True))
        return 0
    if args.input == "-":
        return _extract_stream(sys.stdin, None, args.workers)
    path = Path(args.input)
    if not path.is_file():
        raise _command_error(f"no such file: {path}")
    with open(path, encoding="utf-8", errors="surrogateescape") as fh:
        return _extract_stream(fh, _count_lines(path), args.workers)


def _extract_stream(lines: IO[str], total: int | None, workers: int) -> int:
    wanted = (line for line in lines if line.strip())
    out = sys.stdout
    with _progress("extract", total) as advance:
        for result in _ordered_map(_extract_line, wanted, workers, advance):
            out.write(result + "\n")
    out.flush()
    return 0


# --------------------------------------------------------------------------------------------
# eval
# --------------------------------------------------------------------------------------------


@dataclass
class _Scored:
    """The extractors' texts for one benchmark page, and the extraction times."""

    key: str
    url: str
    ours: str
    ours_comments: str  # our record's comments, joined (the body itself is `ours`)
    theirs: str  # trafilatura.extract() defaults (it keeps comments)
    theirs_body: str  # trafilatura.extract(include_comments=False)
    ours_seconds: float
    theirs_seconds: float


_WARM_PAGE = (
    "<html><head><title>Warm-up</title></head><body><h1>Warm-up</h1><article>"
    + "<p>A paragraph of text that warms up both extractors before any page is timed.</p>" * 5
    + "</article><footer><a href='/'>Home</a></footer></body></html>"
)
_warm = False


def _warm_up() -> None:
    """Pay each extractor's one-time costs (imports, trafilatura's stop lists) untimed."""
    global _warm
    if _warm:
        return
    import trafilatura

    from crawler.extract.body import extract_body
    from crawler.extract.page import parse_html

    extract_body(parse_html(_WARM_PAGE), "")
    trafilatura.extract(_WARM_PAGE)
    trafilatura.extract(_WARM_PAGE, include_comments=False)
    _warm = True


def _score_page(task: tuple[str, str, str]) -> _Scored:
    """Run our extractor and trafilatura.extract() on one gzipped page (in a worker).

    Both are timed from the decoded HTML string, parsing included, after a warm-up."""
    import trafilatura

    from crawler.extract.body import extract_body
    from crawler.extract.comments import find_comments
    from crawler.extract.page import PageError, decode_html, parse_html

    _warm_up()
    key, url, path = task
    raw = gzip.decompress(Path(path).read_bytes())
    try:
        text = decode_html(raw, "utf-8")
    except PageError:
        return _Scored(key, url, "", "", "", "", 0.0, 0.0)

    def run_ours() -> tuple[Any, str]:
        try:
            tree = parse_html(text)
        except PageError:
            return [], ""
        found = find_comments(tree, url)  # as `page.build_record` does
        body = extract_body(tree, url, exclude=found.boxes)
        return found.comments, body.text if body else ""

    def run_theirs() -> str:
        return trafilatura.extract(text, url=url or None) or ""

    # the first to touch a page pays for cold caches: alternate who goes first
    theirs_first = bool(zlib.crc32(key.encode("utf-8")) & 1)
    if theirs_first:
        start = time.perf_counter()
        theirs = run_theirs()
        middle = time.perf_counter()
        comments, ours = run_ours()
        end = time.perf_counter()
        ours_seconds, theirs_seconds = end - middle, middle - start
    else:
        start = time.perf_counter()
        comments, ours = run_ours()
        middle = time.perf_counter()
        theirs = run_theirs()
        end = time.perf_counter()
        ours_seconds, theirs_seconds = middle - start, end - middle
    theirs_body = trafilatura.extract(text, url=url or None, include_comments=False) or ""
    joined = "\n\n".join(c["text"] for c in comments)
    return _Scored(key, url, ours, joined, theirs, theirs_body, ours_seconds, theirs_seconds)


def _load_bench(
    folder: Path, limit: int | None = None
) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    truth_file = folder / "ground-truth.json"
    if not truth_file.is_file() or not (folder / "html").is_dir():
        raise _command_error(f"not a benchmark directory (html/, ground-truth.json): {folder}")
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    tasks: list[tuple[str, str, str]] = []
    expected: dict[str, str] = {}
    for key in sorted(truth)[:limit]:
        page = folder / "html" / f"{key}.html.gz"
        if not page.is_file():
            raise _command_error(f"ground truth names a missing page: {page}")
        tasks.append((key, truth[key].get("url") or "", str(page)))
        expected[key] = truth[key].get("articleBody") or ""
    return tasks, expected


def _score_json(score: CorpusScore) -> dict[str, Any]:
    return {
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
        "f1": round(score.f1, 4),
        "documents": score.documents,
    }


CATASTROPHIC_BELOW = 0.5  # a page is lost when one extractor scores below this F1 ...
CATASTROPHIC_OTHER = 0.8  # ... while the other scores at least this


def _texts(r: _Scored) -> dict[str, str]:
    joined = r.ours + ("\n\n" + r.ours_comments if r.ours_comments else "")
    return {
        "ours": r.ours,
        "ours_with_comments": joined,
        "trafilatura": r.theirs,
        "trafilatura_no_comments": r.theirs_body,
    }


# (row, extractor text, truth): "body" is the truth without the comments where the corpus
# marks them (dragnet), else the whole truth; "whole" always the whole truth
_EVAL_ROWS = (
    ("ours", "ours", "body"),
    ("trafilatura", "trafilatura", "body"),
    ("trafilatura_no_comments", "trafilatura_no_comments", "body"),
    ("ours_with_comments", "ours_with_comments", "whole"),
    ("trafilatura_whole", "trafilatura", "whole"),
    ("ours_whole", "ours", "whole"),
)


def _catastrophic(
    results: list[_Scored],
    texts: list[dict[str, str]],
    truth: dict[str, str],
    ours: str,
    other: str,
) -> int:
    """Pages where `ours` scores F1 < 0.5 on `truth` while `other` scores >= 0.8."""
    lost = 0
    for r, t in zip(results, texts, strict=True):
        if score_document(truth[r.key], t[ours]).f1 >= CATASTROPHIC_BELOW:
            continue
        lost += score_document(truth[r.key], t[other]).f1 >= CATASTROPHIC_OTHER
    return lost


def evaluate_bench(
    folder: Path,
    workers: int,
    worst: int,
    advance: Callable[[int], None] | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Score ours and trafilatura on a benchmark directory; JSON-ready results.

    Our record keeps the body (`text`) and the reader comments apart; trafilatura's default
    `extract()` puts comments in its text. Where a corpus's truth marks its comments apart
    (dragnet's separator line, `scoring.split_truth`), bodies are scored against the truth
    without them (rows `ours`, `trafilatura`, `trafilatura_no_comments`) and texts with
    comments against the whole truth (`ours_with_comments`, `trafilatura_whole`; `ours_whole`
    is our body alone against it). Elsewhere both truths are the same text.

    `catastrophic`: pages where our body scores F1 < 0.5 on the body truth while trafilatura's
    default scores >= 0.8; `reverse` the other way round; `catastrophic_vs_no_comments`
    against trafilatura without comments; `catastrophic_with_comments`: ours with comments
    against trafilatura's default, on the whole truth.
    """
    tasks, expected = _load_bench(folder, limit)
    start = time.perf_counter()
    results = list(_ordered_map(_score_page, tasks, workers, advance))
    wall = time.perf_counter() - start
    split = {key: split_truth(text) for key, text in expected.items()}
    truths = {"whole": expected, "body": {key: body for key, (body, _) in split.items()}}
    marked = sum(1 for _, comments in split.values() if comments is not None)
    out: dict[str, Any] = {
        "name": folder.name,
        "pages": len(results),
        "pages_marking_comments": marked,
        "wall_seconds": wall,
    }
    texts = [_texts(r) for r in results]
    for row, name, truth in _EVAL_ROWS:
        pairs = ((truths[truth][r.key], t[name]) for r, t in zip(results, texts, strict=True))
        out[row] = _score_json(score_corpus(pairs))
    for name, attr in (("ours", "ours_seconds"), ("trafilatura", "theirs_seconds")):
        seconds = sum(getattr(r, attr) for r in results)
        out[name]["pages_per_second"] = round(len(results) / seconds, 1) if seconds else None
    body = truths["body"]
    out["catastrophic"] = _catastrophic(results, texts, body, "ours", "trafilatura")
    out["reverse_catastrophic"] = _catastrophic(results, texts, body, "trafilatura", "ours")
    out["catastrophic_vs_no_comments"] = _catastrophic(
        results, texts, body, "ours", "trafilatura_no_comments"
    )
    out["catastrophic_with_comments"] = _catastrophic(
        results, texts, expected, "ours_with_comments", "trafilatura"
    )
    losses = []
    for r in results:
        ours = score_document(body[r.key], r.ours).f1
        theirs = score_document(body[r.key], r.theirs).f1
        if theirs > ours:
            losses.append(
                {
                    "id": r.key,
                    "url": r.url,
                    "ours_f1": round(ours, 4),
                    "theirs_f1": round(theirs, 4),
                }
            )
    losses.sort(key=lambda d: (d["ours_f1"] - d["theirs_f1"], d["id"]))
    out["losses"] = len(losses)
    out["worst"] = losses[:worst]
    return out


def evaluate_blogfarm(archive_dir: Path, groundtruth: Path) -> dict[str, Any]:
    """Score an archive's current ``text`` against ``body_text``, per blogfarm theme."""
    from archive import store

    if not (archive_dir / store.RECORDS_DIR).is_dir():
        raise _command_error(f"not an archive (no {store.RECORDS_DIR}/ directory): {archive_dir}")
    if not groundtruth.is_file():
        raise _command_error(f"no such file: {groundtruth}")
    texts: dict[str, str] = {}
    for record in store.iter_latest(archive_dir):
        for url in (record.url, record.canonical_url):
            texts.setdefault(url.rstrip("/"), record.text)
    pairs: dict[str, list[tuple[str, str]]] = {}
    missing: dict[str, int] = {}
    with open(groundtruth, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            truth = json.loads(line)
            for theme, url in sorted((truth.get("urls_by_theme") or {}).items()):
                got = texts.get(url.rstrip("/"))
                missing[theme] = missing.get(theme, 0) + (got is None)
                pairs.setdefault(theme, []).append((truth.get("body_text") or "", got or ""))
    return {
        theme: {**_score_json(score_corpus(p)), "missing": missing[theme]}
        for theme, p in sorted(pairs.items())
    }


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``blogarchive eval``."""
    parser.add_argument(
        "bench",
        metavar="BENCH_DIR",
        type=Path,
        nargs="?",
        help="benchmark directory: html/<id>.html.gz and ground-truth.json with articleBody",
    )
    parser.add_argument(
        "--blogfarm-archive",
        metavar="ARCHIVE_DIR",
        type=Path,
        help="also score this blogfarm crawl archive's text (needs --groundtruth)",
    )
    parser.add_argument(
        "--groundtruth", metavar="FILE", type=Path, help="the blogfarm groundtruth.jsonl"
    )
    _workers_arg(parser)
    parser.add_argument(
        "--worst",
        type=int,
        default=10,
        metavar="N",
        help="list the N pages where we lose most to trafilatura (default: %(default)s)",
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="score only the first N pages (by id)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


_ROWS = (
    ("ours", "ours (body)"),
    ("trafilatura", "trafilatura"),
    ("trafilatura_no_comments", "traf. no comm."),
)
_WHOLE_ROWS = (
    ("ours_with_comments", "ours + comments"),
    ("trafilatura_whole", "trafilatura"),
    ("ours_whole", "ours (body)"),
)


def _print_rows(result: dict[str, Any], rows: tuple[tuple[str, str], ...]) -> None:
    for name, label in rows:
        s = result[name]
        rate = f"{s['pages_per_second']:8.1f}" if s.get("pages_per_second") else f"{'-':>8}"
        print(f"  {label:<16} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {rate}")


def _print_bench(result: dict[str, Any]) -> None:
    pages = result["pages"]
    marked = result["pages_marking_comments"]
    print(f"{result['name']}: {pages} pages in {result['wall_seconds']:.1f}s")
    if marked:
        print(
            f"  the truth marks reader comments apart on {marked} pages: bodies are scored"
            " against the truth without them"
        )
    print(f"  {'extractor':<16} {'P':>6} {'R':>6} {'F1':>6} {'pages/s':>8}")
    _print_rows(result, _ROWS)
    if marked:
        print("  against the whole truth, comments included:")
        _print_rows(result, _WHOLE_ROWS)
    else:
        _print_rows(result, _WHOLE_ROWS[:1])
    share = 100 * result["catastrophic"] / pages if pages else 0.0
    print(
        f"  catastrophic (ours F1 < {CATASTROPHIC_BELOW} where trafilatura >= "
        f"{CATASTROPHIC_OTHER}): {result['catastrophic']} ({share:.1f}%);"
        f" the reverse: {result['reverse_catastrophic']};"
        f" against trafilatura without comments: {result['catastrophic_vs_no_comments']};"
        f" ours + comments against trafilatura: {result['catastrophic_with_comments']}"
    )
    if result["worst"]:
        print(f"  pages where trafilatura does better ({result['losses']}), worst first:")
        print(f"    {'ours':>6} {'traf':>6}  id / url")
        for w in result["worst"]:
            print(f"    {w['ours_f1']:6.3f} {w['theirs_f1']:6.3f}  {w['id'][:16]}  {w['url']}")


def _print_blogfarm(result: dict[str, Any]) -> None:
    print("blogfarm archive:")
    print(f"  {'theme':<20} {'P':>6} {'R':>6} {'F1':>6} {'docs':>5} {'missing':>7}")
    for theme, s in result.items():
        print(
            f"  {theme:<20} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f}"
            f" {s['documents']:5d} {s['missing']:7d}"
        )


def run_eval(args: argparse.Namespace) -> int:
    """Score our body extraction against trafilatura on a benchmark dir (and a blogfarm crawl)."""
    if args.bench is None and args.blogfarm_archive is None:
        raise _command_error("give BENCH_DIR, or --blogfarm-archive with --groundtruth")
    if (args.blogfarm_archive is None) != (args.groundtruth is None):
        raise _command_error("--blogfarm-archive and --groundtruth go together")
    if args.workers < 1:
        raise _command_error("--workers must be at least 1")
    if args.bench is not None and not args.bench.is_dir():
        raise _command_error(f"no such directory: {args.bench}")
    _quiet_trafilatura(args)
    out: dict[str, Any] = {}
    if args.bench is not None:
        total = len(list((args.bench / "html").glob("*.html.gz")))
        total = min(total, args.limit) if args.limit else total
        with _progress("eval", total) as advance:
            out["bench"] = evaluate_bench(
                args.bench, args.workers, max(args.worst, 0), advance, args.limit
            )
    if args.blogfarm_archive is not None:
        out["blogfarm"] = evaluate_blogfarm(args.blogfarm_archive, args.groundtruth)
    if args.json:
        print(_dump(out, pretty=True))
        return 0
    if "bench" in out:
        _print_bench(out["bench"])
    if "blogfarm" in out:
        _print_blogfarm(out["blogfarm"])
    return 0

"""Body-extraction benchmark: our extract_body() against trafilatura.extract() defaults.

Usage:
    python benchmarks/eval_body.py                      # blogfarm snapshot, per theme
    python benchmarks/eval_body.py ../shared/bench/scrapinghub [--show N]

Prints precision / recall / F1 (word 4-gram shingles, archive.scoring) and pages/s for both
extractors. HTML is parsed once per page, outside the timed region.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import lxml.html
import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.scoring import score_corpus, score_document  # noqa: E402
from crawler.extract.body import extract_body  # noqa: E402

Page = tuple[str, str, bytes, str]  # (name, url, html, expected text)


def ours(tree: lxml.html.HtmlElement, url: str) -> str:
    body = extract_body(tree, url)
    return body.text if body else ""


def trafilatura_default(tree: lxml.html.HtmlElement, url: str) -> str:
    return trafilatura.extract(tree, url=url) or ""


EXTRACTORS: dict[str, Callable[[lxml.html.HtmlElement, str], str]] = {
    "ours": ours,
    "trafilatura": trafilatura_default,
}


def blogfarm_pages() -> dict[str, list[Page]]:
    from tests.blogfarm import THEMES, groundtruth, recorded_page

    sets: dict[str, list[Page]] = {theme: [] for theme in THEMES.values()}
    for rec in groundtruth():
        for theme, url in rec["urls_by_theme"].items():
            sets[theme].append((rec["slug"], url, recorded_page(url).body, rec["body_text"]))
    return sets


def bench_pages(folder: Path) -> dict[str, list[Page]]:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    pages: list[Page] = []
    for key in sorted(truth):
        html = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        pages.append((key, truth[key].get("url", ""), html, truth[key]["articleBody"]))
    return {folder.name: pages}


_UTF8 = lxml.html.HTMLParser(encoding="utf-8")


def parse(html: bytes) -> lxml.html.HtmlElement:
    """Both data sets are UTF-8; say so, since pages without a charset tag would be latin-1."""
    return lxml.html.fromstring(html, parser=_UTF8)


def run(sets: dict[str, list[Page]], show: int) -> None:
    print(f"{'set':<20} {'extractor':<12} {'P':>6} {'R':>6} {'F1':>6} {'pages/s':>8}")
    for name, pages in sets.items():
        trees = [parse(html) for _, _, html, _ in pages]
        for ext_name, func in EXTRACTORS.items():
            outputs: list[str] = []
            start = time.perf_counter()
            for tree, (_, url, _, _) in zip(trees, pages, strict=True):
                outputs.append(func(tree, url))
            elapsed = time.perf_counter() - start
            score = score_corpus(
                (exp, got) for (_, _, _, exp), got in zip(pages, outputs, strict=True)
            )
            print(
                f"{name:<20} {ext_name:<12} {score.precision:6.3f} {score.recall:6.3f} "
                f"{score.f1:6.3f} {len(pages) / elapsed:8.1f}"
            )
            if show and ext_name == "ours":
                _show_worst(pages, outputs, show)


def _show_worst(pages: Iterable[Page], outputs: list[str], count: int) -> None:
    scored = [
        (score_document(exp, got).f1, key, score_document(exp, got))
        for (key, _, _, exp), got in zip(pages, outputs, strict=True)
    ]
    for f1, key, doc in sorted(scored)[:count]:
        print(f"    {f1:.3f} P={doc.precision:.3f} R={doc.recall:.3f} {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", type=Path, help="bench dir (html/, ground-truth.json)")
    parser.add_argument("--show", type=int, default=0, help="list the N worst pages of ours")
    args = parser.parse_args()
    sets = bench_pages(args.bench) if args.bench else blogfarm_pages()
    run(sets, args.show)


if __name__ == "__main__":
    main()

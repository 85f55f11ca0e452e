"""`blogarchive reextract ARCHIVE_DIR -o NEW_DIR`: rebuild the records from the WARC files.

Offline: no request is made. Runs the current extractor on the raw responses a crawl stored
(`archive.warc`), the way the spider would have run it on them:

1. First pass over the feed and sitemap responses: the hints (`crawler.extract.types.Hints`)
   that feeds and sitemaps give their entries, parsed again with `crawler.discovery`.
2. Second pass over the 2xx HTML responses the spider handled as pages: `analyse_page` with
   the same arguments as `BlogsSpider.parse_page` (site, encoding, hints, status,
   ``fetched_at`` = the WARC-Date, ``site_root``), in worker processes, results taken in
   archive order. A URL fetched twice (a redirect alias) or a page whose canonical URL was
   already archived gives one record, as in the crawl.

The site of a response is its ``BlogArchive-Site`` field; for WARCs without it, the site of
the archived record of that URL, else the known site whose scope contains the URL. A page's
hints are those of the source (feed or sitemap) the crawl had for it (``BlogArchive-Hints``);
without that field, feed and sitemap hints merged.

The records go to a new archive (``-o``, never the source archive) under the writer id
``reextract``; its ``warc/`` directory gets hard links to the source's WARC files (copies
across file systems), so the new records' ``warc`` refs resolve in the new archive.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
import shutil
import sys
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from archive import warc
from archive.store import RECORDS_DIR, ArchiveWriter, archive_files, iter_records
from crawler import discovery
from crawler.extract.types import Hints
from crawler.urls import SiteScope, url_key
from schemas.post import PostRecord

log = logging.getLogger(__name__)

WRITER_ID = "reextract"
_PAGE_CALLBACK = "parse_page"


@dataclass
class ReextractResult:
    """What a re-extraction did."""

    responses: int = 0  # response records read
    pages: int = 0  # HTML page responses analysed
    records: Counter[str] = field(default_factory=Counter)  # kind -> records written
    listings: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> pages
    warc_files: int = 0
    boilerplate: dict[str, frozenset[str]] = field(default_factory=dict)  # site -> profile's


# --------------------------------------------------------------------------------------------
# Pass 1: hints from feeds and sitemaps
# --------------------------------------------------------------------------------------------


@dataclass
class _Hints:
    feed: dict[str, Hints] = field(default_factory=dict)  # url_key -> first feed item's hints
    sitemap: dict[str, Hints] = field(default_factory=dict)  # url_key -> first sitemap entry's

    def add_sitemap(self, body: bytes, url: str) -> bool:
        try:
            sitemap = discovery.parse_sitemap(body, url)
        except discovery.DiscoveryError as exc:
            log.info("malformed sitemap %s: %s", url, exc.reason)
            return False
        if sitemap.kind != "urlset":
            return True
        kind = discovery.sitemap_kind(url)
        if kind == "other":
            return True
        for entry in sitemap.entries:
            self.sitemap.setdefault(
                url_key(entry.loc), Hints(lastmod=entry.lastmod, sitemap_kind=kind)
            )
        return True

    def add_feed(self, body: bytes, url: str) -> bool:
        try:
            feed = discovery.parse_feed(body, url)
        except discovery.DiscoveryError as exc:
            log.info("malformed feed %s: %s", url, exc.reason)
            return False
        for item in feed.items:
            self.feed.setdefault(url_key(item.link), item.hints)
        return True

    def for_page(self, request_url: str, source: str | None) -> Hints | None:
        """The hints of the URL a page was requested as; ``source``: feed, sitemap, or None
        for "unknown" (then both merged)."""
        key = url_key(request_url)
        feed, sitemap = self.feed.get(key), self.sitemap.get(key)
        if source == "feed":
            return feed
        if source == "sitemap":
            return sitemap
        if feed and sitemap:
            return replace(feed, lastmod=sitemap.lastmod, sitemap_kind=sitemap.sitemap_kind)
        return feed or sitemap


def _is_html(headers: list[tuple[str, str]], body: bytes) -> bool:
    from crawler.extract.page import is_html_response  # the spider's own test

    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    return is_html_response(content_type.lower(), body)


def _encoding(url: str, status: int, headers: list[tuple[str, str]], body: bytes) -> str | None:
    """The encoding Scrapy would have given the response (header, BOM, <meta>, detection)."""
    from scrapy.http import Headers as ScrapyHeaders
    from scrapy.responsetypes import responsetypes

    scrapy_headers = ScrapyHeaders()
    for name, value in headers:
        scrapy_headers.appendlist(name, value)
    cls = responsetypes.from_args(headers=scrapy_headers, url=url, body=body)
    response = cls(url=url, status=status, headers=scrapy_headers, body=body)
    return getattr(response, "encoding", None)


# --------------------------------------------------------------------------------------------
# Pass 2: pages
# --------------------------------------------------------------------------------------------


def _analyse(kwargs: dict[str, Any]) -> tuple[str, PostRecord | None, str | None]:
    """Worker: ``(kind, record, skip reason)``; a PageError becomes kind ``error``."""
    from crawler.extract.page import PageError, analyse_page  # heavy: only where used

    try:
        analysis = analyse_page(**kwargs)
    except PageError as exc:
        return "error", None, str(exc)
    return analysis.kind, analysis.record, analysis.skip_reason


class _InlineExecutor(Executor):
    """`--workers 0`: run in this process."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
            future.set_exception(exc)
        return future


@dataclass
class _Page:
    ref: warc.WarcRef
    url: str
    key: str


class _Sites:
    """Which blog a response belongs to, for responses without a BlogArchive-Site field."""

    def __init__(self, archive_dir: Path, known: set[str]) -> None:
        self.archive_dir = archive_dir
        self.known = known
        self._by_url: dict[str, str] | None = None

    def site_of(self, url: str) -> str | None:
        if self._by_url is None:
            self._by_url = {}
            if archive_files(self.archive_dir):
                for record in iter_records(self.archive_dir):
                    self._by_url.setdefault(url_key(record.url), record.site)
                    self.known.add(record.site)
        if site := self._by_url.get(url_key(url)):
            return site
        matching = [s for s in self.known if SiteScope(s).contains(url)]
        return max(matching, key=len) if matching else None


def reextract(
    archive_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    workers: int = 0,
    progress: Callable[[str, int], contextlib.AbstractContextManager[Any]] | None = None,
    profiles: bool = True,
) -> ReextractResult:
    """Rebuild the records of ``archive_dir``'s WARC files into the archive ``output_dir``.

    With ``profiles`` (the default), each blog's site profile the crawl saved
    (``profiles-<writer>.json``) gives `analyse_page` the same template blocks to drop as
    the crawl's extraction had once the profile was ready."""
    source, target = Path(archive_dir), Path(output_dir)
    result = ReextractResult()
    result.boilerplate = site_boilerplate(source) if profiles else {}
    files = warc.warc_files(source)
    result.warc_files = len(files)
    _link_warcs(source, target, files)

    def bar(description: str, total: int) -> contextlib.AbstractContextManager[Any]:
        return progress(description, total) if progress else contextlib.nullcontext(None)

    # pass 1: hints, and which responses are pages
    hints = _Hints()
    known_sites: set[str] = set()
    page_refs = 0
    with bar("reextract: feeds and sitemaps", len(files)) as tick:
        last_file = None
        for response, fields in warc.iter_responses_with_fields(source):
            if tick and last_file not in (None, response.ref.file):
                tick(None)
            last_file = response.ref.file
            result.responses += 1
            if site := fields.get(warc.SITE_HEADER):
                known_sites.add(site)
            if not 200 <= response.status < 300:
                continue
            callback = fields.get(warc.CALLBACK_HEADER)
            if callback == "parse_sitemap":
                hints.add_sitemap(response.body, response.url)
            elif callback == "parse_feed":
                hints.add_feed(response.body, response.url)
            elif callback == _PAGE_CALLBACK or callback is None:
                if _is_html(response.headers, response.body):
                    page_refs += 1
                elif callback is None and not hints.add_feed(response.body, response.url):
                    hints.add_sitemap(response.body, response.url)
        if tick and last_file is not None:
            tick(None)

    # pass 2: pages, analysed in workers, taken in archive order
    sites = _Sites(source, known_sites)
    seen: set[str] = set()
    writer = ArchiveWriter(target, writer_id=WRITER_ID, fsync_every=100)
    executor: Executor
    if workers > 0:
        executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
        )
    else:
        executor = _InlineExecutor()
    window: deque[tuple[_Page, Future[Any]]] = deque()
    limit = max(1, workers) * 4

    def finish(page: _Page, future: Future[Any], tick: Callable[[Any], None] | None) -> None:
        if tick:
            tick(None)
        try:
            kind, record, reason = future.result()
        except Exception as exc:  # noqa: BLE001 - as the spider: log, count, go on
            log.error("extraction failed on %s: %s", page.url, exc)
            result.skipped[f"extraction_{type(exc).__name__}"] += 1
            return
        if kind == "error":
            result.skipped[(reason or "error").split(":")[0].replace(" ", "_")] += 1
            return
        if kind == "listing":
            result.listings += 1
            return
        if record is None:
            result.skipped["no_record"] += 1
            return
        canonical_key = url_key(record.canonical_url)
        if canonical_key != page.key and canonical_key in seen:
            result.skipped["duplicate"] += 1
            return
        seen.add(canonical_key)
        record.warc = page.ref
        writer.write(record)
        result.records[record.kind] += 1

    try:
        with bar("reextract: pages", page_refs) as tick:
            for page, kwargs in _pages(source, hints, sites, seen, result):
                kwargs["boilerplate"] = result.boilerplate.get(kwargs["site"], frozenset())
                window.append((page, executor.submit(_analyse, kwargs)))
                while len(window) >= limit:
                    finish(*window.popleft(), tick)
            while window:
                finish(*window.popleft(), tick)
    finally:
        for _page, future in window:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
        writer.close()
    return result


def _pages(
    source: Path, hints: _Hints, sites: _Sites, seen: set[str], result: ReextractResult
) -> Iterator[tuple[_Page, dict[str, Any]]]:
    """The page responses to analyse, with `analyse_page`'s arguments, in archive order."""
    for response, fields in warc.iter_responses_with_fields(source):
        callback = fields.get(warc.CALLBACK_HEADER)
        if callback not in (_PAGE_CALLBACK, None) or not 200 <= response.status < 300:
            continue
        if not _is_html(response.headers, response.body):
            if callback == _PAGE_CALLBACK:
                result.skipped["not_html"] += 1
            continue
        url = response.url
        site = fields.get(warc.SITE_HEADER) or sites.site_of(url)
        if site is None:
            result.skipped["no_site"] += 1
            log.warning("skipped %s: no site known for it", url)
            continue
        if not SiteScope(site).contains(url):
            result.skipped["redirected_offsite"] += 1
            continue
        key = url_key(url)
        if key in seen:
            result.skipped["duplicate"] += 1
            continue
        seen.add(key)
        result.pages += 1
        request_url = fields.get(warc.REDIRECTED_FROM_HEADER) or url
        if callback is None:
            source_of_hints = None
            page_hints = None if key == url_key(site) else hints.for_page(request_url, None)
        else:
            source_of_hints = fields.get(warc.HINTS_HEADER)
            page_hints = hints.for_page(request_url, source_of_hints) if source_of_hints else None
        kwargs = {
            "body": response.body,
            "url": url,
            "encoding": _encoding(url, response.status, response.headers, response.body),
            "hints": page_hints,
            "site": site,
            "status": response.status,
            "fetched_at": response.fetched_at,
            "site_root": key == url_key(site),
            "extract": True,
        }
        yield _Page(response.ref, url, key), kwargs


def site_boilerplate(archive_dir: Path) -> dict[str, frozenset[str]]:
    """Each blog's learnt template blocks from the archive's ``profiles-*.json`` (the profile
    that saw the most pages when several writers learnt one); ready profiles only, as in the
    crawl. A damaged profile file is skipped with a warning."""
    from crawler.extract.profile import SiteProfile, load_profiles

    best: dict[str, SiteProfile] = {}
    for path in sorted(archive_dir.glob("profiles-*.json")):
        try:
            loaded = load_profiles(path)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s: damaged site profiles, not used (%s)", path, exc)
            continue
        for site, profile in loaded.items():
            if site not in best or profile.pages > best[site].pages:
                best[site] = profile
    return {site: p.boilerplate() for site, p in best.items() if p.ready}


def _link_warcs(source: Path, target: Path, files: list[Path]) -> None:
    """Hard-link (else copy) the source's WARC files into the target at the same paths."""
    for path in files:
        rel = path.relative_to(source)
        dest = target / rel
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            log.info("cannot hard-link %s; copying it", rel)
            shutil.copy2(path, dest)


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def add_reextract_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``blogarchive reextract``."""
    parser.add_argument(
        "archive_dir", metavar="ARCHIVE_DIR", type=Path, help="the archive with warc/ files"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="NEW_ARCHIVE_DIR",
        help="where the new archive goes (a new or empty directory, not ARCHIVE_DIR); it gets"
        " links to the WARC files, so its records' warc refs resolve",
    )
    parser.add_argument(
        "--no-profiles",
        action="store_true",
        help="ignore the site profiles the crawl learnt (profiles-*.json): bodies keep the "
        "blog's template blocks",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="extraction processes (default: one per CPU; 0: in this process)",
    )


def run_reextract(args: argparse.Namespace) -> int:
    """Rebuild the records from the archive's WARC files with the current extractor, offline."""
    from archive.cli import CommandError, _progress
    from crawler.workers import default_workers

    source: Path = args.archive_dir
    target: Path = args.output
    if not source.is_dir():
        raise CommandError(f"no such directory: {source}")
    if not warc.warc_files(source):
        raise CommandError(f"no WARC files in {source / warc.WARC_DIR} (crawl with WARC_ENABLED)")
    if target.exists() and target.resolve() == source.resolve():
        raise CommandError("the output must be a new archive directory, not ARCHIVE_DIR")
    if (target / RECORDS_DIR).is_dir() and any((target / RECORDS_DIR).iterdir()):
        raise CommandError(f"{target} already holds an archive: give a new directory")
    if args.workers is not None and args.workers < 0:
        raise CommandError("--workers must be 0 or more")
    workers = default_workers() if args.workers is None else args.workers

    def progress(description: str, total: int) -> contextlib.AbstractContextManager[Any]:
        return _progress(description, total)

    result = reextract(
        source, target, workers=workers, progress=progress, profiles=not args.no_profiles
    )
    skipped = ", ".join(f"{k} {n}" for k, n in result.skipped.most_common())
    print(
        f"reextracted {sum(result.records.values())} records "
        f"({result.records['post']} posts + {result.records['page']} pages) from "
        f"{result.pages} pages of {result.responses} responses in {result.warc_files} WARC "
        f"files into {target}; listings {result.listings}"
        + (f", skipped {skipped}" if skipped else ""),
        file=sys.stderr,
    )
    return 0

"""The ``blogarchive`` command line: a registry of subcommands.

``COMMANDS`` lists ``(name, add_arguments, run)``: ``add_arguments(parser)`` adds the
subcommand's arguments to its argparse subparser, ``run(args)`` does the work and returns the
exit status; the first line of ``run``'s docstring is the subcommand's help. `build_parser`
makes one subparser per entry, `main` (the console script) dispatches. Exit status: 0 fine,
1 the command found a problem (``verify``) or nothing (``show``), 2 usage or I/O error.

The archive commands (``verify``, ``stats``, ``export``, ``show``) know versions and
tombstones (see archive/store.py): a post's current record is its highest version, and a
post whose current record is a tombstone is deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import platform
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import orjson

from archive import store
from schemas.post import PostRecord, Tombstone
from schemas.version import VERSION, package_version

AddArguments = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]
Command = tuple[str, AddArguments, Run]

OnFile = Callable[[Path], None]


class CommandError(Exception):
    """A user error: printed as ``blogarchive: error: ...``, exit status 2."""


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _archive_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("archive_dir", metavar="ARCHIVE_DIR", type=Path, help="the archive")


def _check_archive(directory: Path) -> None:
    if not directory.is_dir():
        raise CommandError(f"no such directory: {directory}")
    if not (directory / store.RECORDS_DIR).is_dir():
        raise CommandError(f"not an archive (no {store.RECORDS_DIR}/ directory): {directory}")


@contextlib.contextmanager
def _progress(description: str, total: int) -> Iterator[OnFile | None]:
    """A per-file progress callback showing a rich bar on stderr, only if stderr is a TTY."""
    if not sys.stderr.isatty() or total == 0:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda _path: bar.advance(task)


def _dump(obj: Any, *, pretty: bool = False) -> str:
    option = orjson.OPT_INDENT_2 if pretty else 0
    return orjson.dumps(obj, option=option).decode("utf-8")


def _fmt_time(value: dt.datetime | None, *, date_only: bool = False) -> str | None:
    if value is None:
        return None
    value = value.astimezone(dt.timezone.utc)
    return value.date().isoformat() if date_only else value.isoformat(timespec="seconds")


@contextlib.contextmanager
def _output(path: Path | None, *, binary: bool = False) -> Iterator[Any]:
    """stdout, or ``path`` written atomically (temporary file renamed on success)."""
    if path is None:
        if binary:
            raise CommandError("this format is binary: give an output file with -o FILE")
        yield sys.stdout
        sys.stdout.flush()
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if binary:
            yield tmp
        else:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# --------------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------------


def _add_verify(parser: argparse.ArgumentParser) -> None:
    _archive_arg(parser)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on interrupted writes too (the incomplete last line or gzip member a "
        "killed crawl can leave at the end of its file; listed but accepted by default)",
    )


def run_verify(args: argparse.Namespace) -> int:
    """Check every line, the version chains and the WARC pointers; list the problems.

    Fails on: a line that is not a valid record; two different records with the same
    version of one post; a ``warc`` pointer to a missing file or beyond its end; and, with
    ``--strict``, an interrupted write. Listed only: interrupted writes, identical copies of
    a record (notes), gaps in a version chain (warnings).
    """
    directory: Path = args.archive_dir
    _check_archive(directory)
    files = store.archive_files(directory)
    records = 0
    urls: set[str] = set()
    problems: list[store.Problem] = []
    versions = store.VersionChecker()
    warc_issues: list[store.VersionIssue] = []
    with _progress("verify", len(files)) as on_file:
        for item in store.scan(directory, on_file=on_file):
            if isinstance(item, store.Problem):
                problems.append(item)
                continue
            records += 1
            ref, record = item
            assert isinstance(record, (PostRecord, Tombstone))
            urls.add(record.canonical_url)
            versions.add(ref, record)
            if record.warc is not None:
                why = store.check_warc_ref(directory, record.warc)
                if why:
                    warc_issues.append(store.VersionIssue(ref, "error", why))
    order = {path.relative_to(directory).as_posix(): i for i, path in enumerate(files)}
    issues = sorted(
        [*versions.issues(), *warc_issues], key=lambda i: (order.get(i.ref.file, -1), i.ref.line)
    )
    writers = len({path.parent.name for path in files})
    where = f"{len(files)} files from {writers} writers"
    for problem in problems:
        print(problem)
    for issue in issues:
        print(issue)
    failures: list[Any] = [p for p in problems if args.strict or not p.interrupted]
    failures += [i for i in issues if i.level == "error"]
    diverged = _state_divergence(directory)
    failures += diverged
    if failures:
        bad_files = len(
            {
                p.file if isinstance(p, store.Problem) else p.ref.file
                for p in failures
                if not isinstance(p, str)
            }
        )
        print(f"FAILED: {len(failures)} problems in {bad_files} of {where}; {records} good records")
        return 1
    notes = sum(i.level == "note" for i in issues)
    warnings = sum(i.level == "warning" for i in issues)
    extra = ""
    if notes:
        extra += f"; {notes} identical copies counted once"
    if warnings:
        extra += f"; {warnings} warnings"
    if problems:
        extra += f"; {len(problems)} interrupted writes skipped"
    print(f"OK: {records} records of {len(urls)} posts and pages in {where}{extra}")
    return 0


def _state_divergence(directory: Path) -> list[str]:
    """Each crawl state's URLs archived per the state but missing from the archive (printed,
    the first 20 of each state): the next crawl fetches and writes them again."""
    from crawler.state import state_divergence

    found: list[str] = []
    for path in sorted(directory.glob("state-*.sqlite")):
        try:
            lines = state_divergence(path, directory)
        except Exception as exc:  # noqa: BLE001 - a damaged state is reported, not fatal here
            print(f"warning: {path.name}: cannot read the crawl state: {exc}")
            continue
        for line in lines[:20]:
            print(f"error: {path.name}: {line}")
        if len(lines) > 20:
            print(f"error: {path.name}: ... and {len(lines) - 20} more")
        if lines:
            print(
                f"error: {path.name}: {len(lines)} URLs archived per the crawl state are missing "
                "from the archive (the next crawl fetches and writes them again)"
            )
        found += [f"{path.name}: {line}" for line in lines]
    return found


# --------------------------------------------------------------------------------------------
# stats
# --------------------------------------------------------------------------------------------


@dataclass
class _SiteStats:
    posts: int = 0
    pages: int = 0
    versions: int = 0
    tombstones: int = 0
    words: int = 0
    first_published: dt.datetime | None = None
    last_published: dt.datetime | None = None
    languages: Counter[str] = field(default_factory=Counter)
    last_fetched_at: dt.datetime | None = None

    def add(
        self, kind: str, words: int, published: dt.datetime | None, language: str | None
    ) -> None:
        """Count one live current record."""
        if kind == "post":
            self.posts += 1
        else:
            self.pages += 1
        self.words += words
        if published is not None:
            if self.first_published is None or published < self.first_published:
                self.first_published = published
            if self.last_published is None or published > self.last_published:
                self.last_published = published
        self.languages[language or "unknown"] += 1

    def seen(self, moment: dt.datetime) -> None:
        """A record of this site was fetched (or found gone) at ``moment``."""
        if self.last_fetched_at is None or moment > self.last_fetched_at:
            self.last_fetched_at = moment

    def merge(self, other: _SiteStats) -> None:
        """Add another site's counts (for the total)."""
        self.posts += other.posts
        self.pages += other.pages
        self.versions += other.versions
        self.tombstones += other.tombstones
        self.words += other.words
        for value in (other.first_published, other.last_published):
            if value is not None:
                self.first_published = min(self.first_published or value, value)
                self.last_published = max(self.last_published or value, value)
        self.languages.update(other.languages)
        if other.last_fetched_at is not None:
            self.seen(other.last_fetched_at)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "posts": self.posts,
            "pages": self.pages,
            "versions": self.versions,
            "tombstones": self.tombstones,
            "words": self.words,
            "first_published": _fmt_time(self.first_published),
            "last_published": _fmt_time(self.last_published),
            "languages": dict(self.languages.most_common()),
            "last_fetched_at": _fmt_time(self.last_fetched_at),
        }


_Current = tuple[str, bool, str, int, "dt.datetime | None", "str | None"]
"""What stats keeps of a post's current record: site, deleted, kind, words, published, lang."""


def _site_stats(directory: Path, on_file: OnFile | None) -> dict[str, _SiteStats]:
    """One pass over the archive; memory: a few fields and version hashes per post."""
    best: dict[str, tuple[tuple[int, dt.datetime, int], _Current]] = {}
    identities: dict[str, set[tuple[int, str]]] = {}
    sites: dict[str, _SiteStats] = {}
    for seq, (_ref, r) in enumerate(store.iter_with_refs(directory, on_file=on_file)):
        sites.setdefault(r.site, _SiteStats()).seen(store.record_time(r))
        if isinstance(r, PostRecord):
            identities.setdefault(r.canonical_url, set()).add(store.record_identity(r))
        key = store.current_key(r, seq)
        old = best.get(r.canonical_url)
        if old is None or key > old[0]:
            if isinstance(r, Tombstone):
                best[r.canonical_url] = (key, (r.site, True, r.kind, 0, None, None))
            else:
                value = (r.site, False, r.kind, r.word_count, r.published, r.language)
                best[r.canonical_url] = (key, value)
    for url, (_key, (site, deleted, kind, words, published, language)) in best.items():
        stats = sites.setdefault(site, _SiteStats())
        stats.versions += max(len(identities.get(url, ())) - 1, 0)
        if deleted:
            stats.tombstones += 1
        else:
            stats.add(kind, words, published, language)
    return sites


def _add_stats(parser: argparse.ArgumentParser) -> None:
    _archive_arg(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run_stats(args: argparse.Namespace) -> int:
    """Per site: posts, pages, versions, tombstones, words, published range, languages, last fetch.

    posts, pages, words, published range and languages count live current records;
    versions: post records beyond the first of each post (an identical copy counts once);
    tombstones: posts and pages whose current record is a tombstone (deleted);
    last fetch: the latest fetched_at (or deleted_at) of any record of the site.
    """
    directory: Path = args.archive_dir
    _check_archive(directory)
    with _progress("stats", len(store.archive_files(directory))) as on_file:
        sites = _site_stats(directory, on_file)
    total = _SiteStats()
    for stats in sites.values():
        total.merge(stats)
    ordered = sorted(sites.items())
    if args.json:
        out = {"sites": {s: st.as_json() for s, st in ordered}, "total": total.as_json()}
        print(_dump(out, pretty=True))
        return 0
    header = ["site", "posts", "pages", "versions", "deleted", "words"]
    rows = [[*header, "published", "languages", "last fetched"]]
    numeric = range(1, len(header))
    for name, st in [*ordered, ("total", total)]:
        first = _fmt_time(st.first_published, date_only=True)
        last = _fmt_time(st.last_published, date_only=True)
        langs = " ".join(f"{lang}:{n}" for lang, n in st.languages.most_common(5))
        if len(st.languages) > 5:
            langs += " ..."
        rows.append(
            [
                name,
                str(st.posts),
                str(st.pages),
                str(st.versions),
                str(st.tombstones),
                str(st.words),
                f"{first}..{last}" if first else "-",
                langs or "-",
                _fmt_time(st.last_fetched_at) or "-",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    return 0


# --------------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------------

FORMATS = ("jsonl", "text", "markdown", "parquet")


def _date_arg(end: bool) -> Callable[[str], dt.datetime]:
    """argparse type: an ISO date (whole day, UTC) or datetime (naive = UTC)."""

    def parse(value: str) -> dt.datetime:
        try:
            if len(value) == 10:
                day = dt.date.fromisoformat(value)
                moment = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
                return (
                    moment + dt.timedelta(days=1) - dt.timedelta(microseconds=1) if end else moment
                )
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an ISO date or datetime: {value!r}") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)

    parse.__name__ = "date"
    return parse


def _site_matches(wanted: str, site: str) -> bool:
    wanted = wanted.rstrip("/")
    return wanted == site.rstrip("/") or wanted.lower() == urlsplit(site).netloc.lower()


def _add_export(parser: argparse.ArgumentParser) -> None:
    _archive_arg(parser)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="jsonl",
        help="jsonl: one record a line; text: title, URL and body text; markdown:"
        " title, URL and body as Markdown; parquet: a table (needs pyarrow and -o)"
        " (default: %(default)s)",
    )
    parser.add_argument("--site", help="only this site: its start URL or host name")
    parser.add_argument(
        "--since",
        type=_date_arg(False),
        metavar="DATE",
        help="only posts published on or after DATE (ISO date or datetime, UTC)",
    )
    parser.add_argument(
        "--until",
        type=_date_arg(True),
        metavar="DATE",
        help="only posts published on or before DATE (a date includes the day)",
    )
    parser.add_argument("--language", help="only records in this language (ISO 639-1 code)")
    parser.add_argument(
        "--include-deleted",
        action="store_true",
        help="also the tombstones of deleted posts (filtered by the date and language of"
        " their last version)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write to FILE (atomically) instead of stdout",
    )


_Meta = tuple["dt.datetime | None", "str | None"]
"""published and language of a post's last live version (to filter its tombstone)."""


def _export_plan(
    directory: Path, include_deleted: bool, on_file: OnFile | None
) -> tuple[set[store.RecordRef], dict[str, _Meta]]:
    """First pass: where the current records are; for tombstones, their post's last metadata.

    Memory: a `RecordRef` and two small fields per post, never a text.
    """
    best: dict[str, tuple[tuple[int, dt.datetime, int], store.RecordRef, bool]] = {}
    live: dict[str, tuple[tuple[int, dt.datetime, int], _Meta]] = {}
    for seq, (ref, r) in enumerate(store.iter_with_refs(directory, on_file=on_file)):
        key = store.current_key(r, seq)
        old = best.get(r.canonical_url)
        if old is None or key > old[0]:
            best[r.canonical_url] = (key, ref, r.deleted)
        if include_deleted and isinstance(r, PostRecord):
            last = live.get(r.canonical_url)
            if last is None or key > last[0]:
                live[r.canonical_url] = (key, (r.published, r.language))
    refs = {ref for _key, ref, deleted in best.values() if include_deleted or not deleted}
    return refs, {url: meta for url, (_key, meta) in live.items()}


def _selected(
    records: Iterable[store.AnyRecord], args: argparse.Namespace, meta: dict[str, _Meta]
) -> Iterator[store.AnyRecord]:
    for r in records:
        if args.site and not _site_matches(args.site, r.site):
            continue
        if isinstance(r, Tombstone):
            published, language = meta.get(r.canonical_url, (None, None))
        else:
            published, language = r.published, r.language
        if args.language and (language or "").lower() != args.language.lower():
            continue
        if args.since or args.until:
            if published is None:
                continue
            if args.since and published < args.since:
                continue
            if args.until and published > args.until:
                continue
        yield r


def _gone(r: Tombstone) -> list[str]:
    return [f"deleted {_fmt_time(r.deleted_at, date_only=True)}", f"HTTP {r.status}"]


def _text_block(r: store.AnyRecord) -> str:
    if isinstance(r, Tombstone):
        return f"(deleted)\n{' | '.join([r.canonical_url, *_gone(r)])}\n"
    meta = [r.canonical_url]
    if r.published:
        meta.append(_fmt_time(r.published, date_only=True) or "")
    if r.authors:
        meta.append(", ".join(r.authors))
    return f"{r.title or r.url}\n{' | '.join(meta)}\n\n{r.text.strip()}\n"


def _markdown_block(r: store.AnyRecord) -> str:
    if isinstance(r, Tombstone):
        return f"# (deleted)\n\n{' · '.join([f'<{r.canonical_url}>', *_gone(r)])}\n"
    meta = [f"<{r.canonical_url}>"]
    if r.published:
        meta.append(_fmt_time(r.published, date_only=True) or "")
    if r.authors:
        meta.append(", ".join(r.authors))
    return f"# {r.title or r.url}\n\n{' · '.join(meta)}\n\n{r.markdown.strip()}\n"


def _write_text(records: Iterable[store.AnyRecord], out: IO[str], fmt: str) -> int:
    n = 0
    for r in records:
        if fmt == "jsonl":
            out.write(_dump(r.model_dump(mode="json")) + "\n")
        elif fmt == "text":
            out.write(("\n" + "=" * 72 + "\n\n" if n else "") + _text_block(r))
        else:
            out.write(("\n---\n\n" if n else "") + _markdown_block(r))
        n += 1
    return n


def _parquet_schema() -> Any:
    """The Parquet table: PostRecord's fields, then the tombstone's ``deleted_at``."""
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    strings = pa.list_(pa.string())
    return pa.schema(
        [
            ("schema_version", pa.int32()),
            ("url", pa.string()),
            ("canonical_url", pa.string()),
            ("declared_canonical_url", pa.string()),
            ("site", pa.string()),
            ("kind", pa.string()),
            ("title", pa.string()),
            ("authors", strings),
            ("published", ts),
            ("updated", ts),
            ("categories", strings),
            ("tags", strings),
            ("language", pa.string()),
            ("description", pa.string()),
            ("site_name", pa.string()),
            ("image", pa.string()),
            ("text", pa.string()),
            ("markdown", pa.string()),
            (
                "comments",
                pa.list_(
                    pa.struct(
                        [
                            ("id", pa.string()),
                            ("parent_id", pa.string()),
                            ("author", pa.string()),
                            ("published", ts),
                            ("text", pa.string()),
                            ("type", pa.string()),
                        ]
                    )
                ),
            ),
            ("comments_status", pa.string()),
            ("comments_system", pa.string()),
            ("word_count", pa.int64()),
            ("content_hash", pa.string()),
            ("fetched_at", ts),
            ("status", pa.int32()),
            ("extractor", pa.struct([("name", pa.string()), ("version", pa.string())])),
            ("sources", pa.map_(pa.string(), pa.string())),
            (
                "warc",
                pa.struct(
                    [
                        ("file", pa.string()),
                        ("offset", pa.int64()),
                        ("length", pa.int64()),
                        ("record_id", pa.string()),
                    ]
                ),
            ),
            ("version", pa.int32()),
            ("previous_hash", pa.string()),
            ("deleted", pa.bool_()),
            ("deleted_at", ts),
        ]
    )


def _write_parquet(records: Iterable[store.AnyRecord], path: Path) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise CommandError("--format parquet needs pyarrow: pip install pyarrow") from None
    schema = _parquet_schema()
    n = 0
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(path, schema) as writer:
        for r in records:
            row = r.model_dump()  # a tombstone's missing columns become nulls
            if "sources" in row:
                row["sources"] = list(row["sources"].items())
            batch.append(row)
            n += 1
            if len(batch) >= 1000:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch.clear()
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    return n


def run_export(args: argparse.Namespace) -> int:
    """Export the current version of every post and page: jsonl, text, markdown or parquet.

    Deleted posts are left out unless --include-deleted. Streams: two passes, memory bounded
    by the number of posts, not their texts.
    """
    directory: Path = args.archive_dir
    _check_archive(directory)
    binary = args.format == "parquet"
    if binary and args.output is None:
        raise CommandError("--format parquet writes a file: give it with -o FILE")
    with _progress("export", 2 * len(store.archive_files(directory))) as on_file:
        refs, meta = _export_plan(directory, args.include_deleted, on_file)
        current = (r for _ref, r in store.iter_at(directory, refs, on_file=on_file))
        records = _selected(current, args, meta)
        with _output(args.output, binary=binary) as out:
            n = _write_parquet(records, out) if binary else _write_text(records, out, args.format)
    if args.output is not None:
        print(f"exported {n} records to {args.output}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------------------------
# show
# --------------------------------------------------------------------------------------------


def _add_show(parser: argparse.ArgumentParser) -> None:
    _archive_arg(parser)
    parser.add_argument("url", metavar="URL", help="the post's URL or canonical URL")
    parser.add_argument(
        "--latest",
        action="store_true",
        help="only the current record (maybe a tombstone), as one JSON object",
    )


def run_show(args: argparse.Namespace) -> int:
    """Print a post's history as JSON: every version in version order (a list), or --latest.

    Tombstones are part of the history; a record written twice is shown once.
    """
    directory: Path = args.archive_dir
    _check_archive(directory)
    found = store.history(directory, args.url)
    if not found:
        print(f"blogarchive: no record for {args.url}", file=sys.stderr)
        return 1
    if args.latest:
        print(_dump(found[-1][1].model_dump(mode="json"), pretty=True))
    else:
        print(_dump([r.model_dump(mode="json") for _ref, r in found], pretty=True))
    return 0


# --------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------

#: Subcommands in --help order: (name, add_arguments(parser), run(args) -> exit status).
#: The first line of run's docstring is the subcommand's help.
COMMANDS: list[Command] = [
    ("verify", _add_verify, run_verify),
    ("stats", _add_stats, run_stats),
    ("export", _add_export, run_export),
    ("show", _add_show, run_show),
]

# ---- Subcommands of other modules: register them here --------------------------------------
from archive import extract_commands  # noqa: E402 - after COMMANDS, which it does not need

COMMANDS.append(("extract", extract_commands.add_extract_arguments, extract_commands.run_extract))
COMMANDS.append(("eval", extract_commands.add_eval_arguments, extract_commands.run_eval))
from archive import reextract  # noqa: E402

COMMANDS.append(("reextract", reextract.add_reextract_arguments, reextract.run_reextract))
from archive import profile_command  # noqa: E402

COMMANDS.append(("profile", profile_command.add_profile_arguments, profile_command.run_profile))
# ---------------------------------------------------------------------------------------------


def build_parser(commands: Sequence[Command] | None = None) -> argparse.ArgumentParser:
    """The argument parser with one subparser per registered command."""
    parser = argparse.ArgumentParser(
        prog="blogarchive", description="Archive blog posts, and inspect and export the archive."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    parser.add_argument(
        "--version",
        action="version",
        version=f"blogarchive {VERSION} (trafilatura {package_version('trafilatura')}, "
        f"Scrapy {package_version('Scrapy')}, Python {platform.python_version()})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, add_arguments, run in COMMANDS if commands is None else commands:
        doc = (run.__doc__ or "").strip().splitlines()
        summary = doc[0] if doc else None
        p = sub.add_parser(name, help=summary, description=summary)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``blogarchive`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="blogarchive: %(levelname)s: %(message)s",
    )
    try:
        return int(args.run(args))
    except CommandError as exc:
        parser.exit(2, f"blogarchive: error: {exc}\n")
    except store.ArchiveWriteError as exc:
        parser.exit(2, f"blogarchive: error: {exc}\n")
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):  # e.g. `blogarchive export ... | head`
            with contextlib.suppress(OSError):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the final flush
            return 141
        parser.exit(2, f"blogarchive: error: {exc}\n")
    except KeyboardInterrupt:
        return 130
    return 0  # unreachable: parser.exit raises


if __name__ == "__main__":
    sys.exit(main())

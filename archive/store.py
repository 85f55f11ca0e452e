"""The archive on disk: a directory of append-only JSONL files of validated `PostRecord`s.

Layout
------
::

    ARCHIVE_DIR/
      records/
        <writer-id>/
          <yyyymmddThhmmssZ>-<pid>.jsonl        one file per crawl run of that writer
          <yyyymmddThhmmssZ>-<pid>.jsonl.gz     ... when written with compression on
          <yyyymmddThhmmssZ>-<pid>-<n>.jsonl    n = 2, 3, ... if that name was taken already
      <anything else>                           sidecar files (see `write_json`), not records

* ``writer-id`` names the writing process or machine (default ``main``; e.g. a host name);
  letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit.
* The file name is the UTC time the run's file was created and the writer's process id.
  A file is created with ``O_EXCL`` and only ever appended to by the run that created it,
  so any number of processes and machines can write into one archive without sharing a
  file, and a new run never has anything to repair.
* Each line is one JSON object (UTF-8, written by orjson) that validates as a
  `schemas.post.ArchiveRecord`: a `PostRecord` (``"deleted": false``; a line without
  ``deleted`` is read as one) or a `Tombstone` (``"deleted": true``); the writer validates
  every record before writing it.
* A ``.jsonl.gz`` file is a concatenation of gzip members, one per flushed batch of lines.
* Each record may point (``warc``) to its raw HTTP response in a WARC file under
  ``ARCHIVE_DIR/warc/`` (see archive/warc.py); ``blogarchive verify`` checks the pointers.

Archive order
-------------
Files are read in the order of (creation time in the name, writer id, pid, n), lines in
file order, so several writers' files form one archive. ``iter_records`` yields every
record ever written, posts and tombstones (all versions, and a record written twice twice);
``iter_posts`` only the `PostRecord` objects.

Versions and current state
--------------------------
A post's records are numbered by ``version`` (1, 2, ...; ``previous_hash`` is the
``content_hash`` of the version before). A `Tombstone` takes the next version number when
the post answers 404/410; a post that comes back takes the one after it.

The *current* record of a post (``latest``, ``iter_latest``, ``current_refs``) is, per
``canonical_url``, the one with the highest ``version``; among equal versions the one with
the later ``fetched_at`` (``deleted_at`` for a tombstone); among those the one later in
archive order (`current_key`). A post whose current record is a tombstone is *deleted*:
these functions leave it out unless ``include_deleted=True``.

Two records with the same ``canonical_url`` and ``version`` are *identical* if they have
the same `record_identity` (both tombstones, or both posts with the same ``content_hash``,
e.g. a killed crawl that wrote a record and wrote it again on resume): readers count them
once. Different ones are a conflict that `VersionChecker` reports (``verify`` fails).

Crash safety
------------
* Uncompressed: each record is written as one complete line by a single ``write()``
  straight to the file descriptor (no user-space buffer), so a record whose ``write``
  returned survives the process being killed at any moment (``kill -9``); ``os.fsync``
  runs every ``fsync_every`` records or ``fsync_interval`` seconds (checked on write) and
  at close, which bounds what an OS crash or power loss can lose.
* Compressed: lines are buffered and each batch (same boundaries) is written as one
  complete gzip member by a single ``write()``, then fsynced; a crash loses at most the
  unflushed batch.
* A single ``write()`` is not atomic against ``kill -9``: Linux cuts a write of more than
  a page short when a fatal signal arrives (seen in about 1 in 20 kills of a writer of
  9 KB lines). What that leaves is always at the very end of the file: an incomplete last
  line, or a truncated last gzip member, of a record whose write never returned. Readers
  skip it with a warning; it is a `Problem` with ``interrupted`` true, which
  ``blogarchive verify`` lists but accepts unless ``--strict``. Each run writes a new file,
  so nothing is ever appended after such a tail and a new run has nothing to repair.
* If a write fails (disk full, permissions, ...) the file is truncated back to its last
  complete line and `ArchiveWriteError` is raised.
* Readers skip, with a ``logging`` warning naming file and line, anything else damage can
  leave (a line that is not JSON or not a valid record, corrupt gzip data) and go on with
  the next line; ``iter_problems`` lists all of these for ``blogarchive verify``. A file
  being written right now may show its last line or member as an interrupted write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import gzip
import logging
import os
import re
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar, overload

import orjson
from pydantic import TypeAdapter, ValidationError

from schemas.post import ArchiveRecord, PostRecord, Tombstone, WarcRef

__all__ = [
    "INCOMPLETE_LINE",
    "RECORDS_DIR",
    "TRUNCATED_MEMBER",
    "WARC_DIR",
    "AnyRecord",
    "ArchiveWriteError",
    "ArchiveWriter",
    "Problem",
    "RecordRef",
    "VersionChecker",
    "VersionIssue",
    "archive_files",
    "check_warc_ref",
    "current_key",
    "current_map",
    "current_refs",
    "history",
    "iter_at",
    "iter_latest",
    "iter_posts",
    "iter_problems",
    "iter_records",
    "iter_with_refs",
    "latest",
    "parse_record",
    "record_identity",
    "record_time",
    "scan",
    "write_json",
]

log = logging.getLogger(__name__)

RECORDS_DIR = "records"
WARC_DIR = "warc"
WRITER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
"""A writer id: names the writing process or machine, a directory under records/ and warc/."""


def check_writer_id(writer_id: str) -> None:
    if not WRITER_ID.match(writer_id):
        raise ValueError(f"invalid writer id {writer_id!r}: use letters, digits, '.', '_', '-'")


_FILE_NAME = re.compile(r"(?P<ts>\d{8}T\d{6}Z)-(?P<pid>\d+)(?:-(?P<n>\d+))?\.jsonl(?P<gz>\.gz)?\Z")
_CHUNK = 1 << 16

INCOMPLETE_LINE = "incomplete last line (interrupted write)"
TRUNCATED_MEMBER = "truncated gzip member (interrupted write: its batch is lost)"

T = TypeVar("T")

AnyRecord = PostRecord | Tombstone
"""One parsed line of the archive (`schemas.post.ArchiveRecord` without the annotation)."""

_ARCHIVE_RECORD: TypeAdapter[PostRecord | Tombstone] = TypeAdapter(ArchiveRecord)


def parse_record(data: dict[str, Any]) -> AnyRecord:
    """Validate one archive line's object as a `PostRecord` or `Tombstone` (by ``deleted``).

    A line without ``deleted`` (written before tombstones existed) is a `PostRecord`.
    Raises pydantic's ``ValidationError``.
    """
    if "deleted" not in data:
        data = {**data, "deleted": False}
    return _ARCHIVE_RECORD.validate_python(data)


def record_time(record: AnyRecord) -> dt.datetime:
    """When the record was observed: ``fetched_at``, or ``deleted_at`` of a tombstone."""
    return record.deleted_at if isinstance(record, Tombstone) else record.fetched_at


def record_identity(record: AnyRecord) -> tuple[int, str]:
    """Records of one post with equal identity are the same version written twice."""
    return (record.version, "deleted" if isinstance(record, Tombstone) else record.content_hash)


def current_key(record: AnyRecord, seq: int) -> tuple[int, dt.datetime, int]:
    """Sort key of a post's records: the greatest is its current record (``seq``: archive order)."""
    return (record.version, record_time(record), seq)


class ArchiveWriteError(Exception):
    """Writing to the archive failed (disk full, permission denied, ...)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"cannot write {os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


@dataclass(frozen=True)
class RecordRef:
    """Where a record is: its file relative to the archive directory, and its 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Problem(NamedTuple):
    """A line readers skip (or a whole file, line 0) and why."""

    file: str
    line: int
    reason: str

    @property
    def interrupted(self) -> bool:
        """The unacknowledged tail of a file whose writer was killed (or is still writing)."""
        return self.reason in (INCOMPLETE_LINE, TRUNCATED_MEMBER)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _fsync_dir(path: Path) -> None:
    """Make a directory entry durable (best effort: not every OS/filesystem supports it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ArchiveWriter:
    """Appends validated records to a new file of this run under ``records/<writer_id>/``.

    The file is created on the first `write`. Not thread-safe; use one writer per process
    (or per thread) with its own ``writer_id`` or not, as files never clash.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        writer_id: str = "main",
        *,
        compress: bool = False,
        fsync_every: int = 100,
        fsync_interval: float | None = 5.0,
    ) -> None:
        check_writer_id(writer_id)
        if fsync_every < 1:
            raise ValueError("fsync_every must be at least 1")
        self.directory = Path(directory)
        self.writer_id = writer_id
        self.compress = compress
        self.fsync_every = fsync_every
        self.fsync_interval = fsync_interval
        self._dir = self.directory / RECORDS_DIR / writer_id
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0  # bytes of complete lines (members) in the file
        self._lines = 0  # lines written (for gzip: including the pending batch)
        self._pending: list[bytes] = []  # gzip: lines of the batch not yet written
        self._unsynced = 0
        self._last_sync = time.monotonic()
        self._closed = False
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveWriteError(exc.filename or self._dir, _reason(exc)) from exc

    # -- public ------------------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        """The file this writer appends to (None before the first write)."""
        return self._path

    @property
    def relpath(self) -> str | None:
        """`path` relative to the archive directory, with ``/`` separators."""
        return self._path.relative_to(self.directory).as_posix() if self._path else None

    @property
    def pending(self) -> int:
        """Records `write` accepted that are not in the file yet (the unflushed gzip batch;
        always 0 uncompressed). A crash loses them: tell nobody else they are archived."""
        return len(self._pending)

    def write(self, record: PostRecord | Tombstone | dict[str, Any]) -> RecordRef:
        """Validate and append one record (a post's version or its tombstone); return where it is.

        Raises pydantic's ``ValidationError`` (nothing is written) if the record is invalid,
        `ArchiveWriteError` if the file cannot be written. With compression the line is
        durable only after the next flush (every ``fsync_every`` records or ``fsync_interval``
        seconds, `flush`, `close`).
        """
        if self._closed:
            raise ValueError("write to a closed ArchiveWriter")
        data = record if isinstance(record, dict) else record.model_dump(mode="json")
        valid = parse_record(data)  # also re-checks records changed after creation
        line = orjson.dumps(valid.model_dump(mode="json")) + b"\n"
        if self._fd is None:
            self._open()
        if self.compress:
            self._pending.append(line)
        else:
            self._write_all(line)
        self._lines += 1
        self._unsynced += 1
        assert self._path is not None
        ref = RecordRef(self.relpath or "", self._lines)
        if self._unsynced >= self.fsync_every or (
            self.fsync_interval is not None
            and time.monotonic() - self._last_sync >= self.fsync_interval
        ):
            self.flush()
        return ref

    def flush(self) -> None:
        """Write the pending gzip batch as one member, then fsync the file."""
        if self._fd is None:
            return
        if self._pending:
            member = gzip.compress(b"".join(self._pending), mtime=0)
            self._write_all(member)
            self._pending.clear()
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise ArchiveWriteError(self._path or self._dir, _reason(exc)) from exc
        self._unsynced = 0
        self._last_sync = time.monotonic()

    def close(self) -> None:
        """Flush and close the file (idempotent); the file stays closed even if flushing fails."""
        if self._closed:
            return
        self._closed = True
        if self._fd is None:
            return
        try:
            self.flush()
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _open(self) -> None:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        suffix = ".jsonl.gz" if self.compress else ".jsonl"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        n = 1
        while True:
            name = f"{stamp}-{os.getpid()}" + (f"-{n}" if n > 1 else "") + suffix
            path = self._dir / name
            try:
                self._fd = os.open(path, flags, 0o644)
                break
            except FileExistsError:
                n += 1
            except OSError as exc:
                raise ArchiveWriteError(path, _reason(exc)) from exc
        self._path = path
        _fsync_dir(self._dir)

    def _write_all(self, data: bytes) -> None:
        """Append ``data`` with one write() (looping only on a short write); undo on failure."""
        assert self._fd is not None and self._path is not None
        view = memoryview(data)
        try:
            while view:
                n = os.write(self._fd, view)
                if n <= 0:
                    raise OSError(errno.EIO, "write returned 0")
                view = view[n:]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)  # drop the partial line or member
            raise ArchiveWriteError(self._path, _reason(exc)) from exc
        self._size += len(data)


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (temporary file, fsync, ``os.replace``)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        data = orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ArchiveWriteError(exc.filename or path, _reason(exc)) from exc
    _fsync_dir(path.parent)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _sort_key(path: Path) -> tuple[str, str, int, int]:
    m = _FILE_NAME.match(path.name)
    assert m is not None
    return (m["ts"], path.parent.name, int(m["pid"]), int(m["n"] or 1))


def _list_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """Archive files in archive order, and other files found under ``records/``."""
    root = directory / RECORDS_DIR
    files: list[Path] = []
    strays: list[Path] = []
    if not root.is_dir():
        return files, strays
    for entry in sorted(root.iterdir()):
        if not entry.is_dir() or not WRITER_ID.match(entry.name):
            strays.append(entry)
            continue
        for path in sorted(entry.iterdir()):
            (files if path.is_file() and _FILE_NAME.match(path.name) else strays).append(path)
    files.sort(key=_sort_key)
    return files, strays


def archive_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The archive's record files, in archive order."""
    return _list_files(Path(directory))[0]


def _plain_lines(path: Path) -> Iterator[tuple[bytes, str | None]]:
    with open(path, "rb") as fh:
        yield from ((raw, None) for raw in fh)


def _gzip_lines(path: Path) -> Iterator[tuple[bytes, str | None]]:
    """Lines of a multi-member gzip file; a final ``(b"", reason)`` if the file is damaged."""
    rest = b""
    dec = zlib.decompressobj(wbits=31)
    in_member = False  # bytes of the current member have been fed
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            data = chunk
            while data:
                try:
                    out = dec.decompress(data)
                except zlib.error as exc:
                    if rest:
                        yield rest, "incomplete line before corrupt gzip data"
                    yield b"", f"corrupt gzip data ({exc}); rest of file skipped"
                    return
                in_member = True
                rest += out
                *lines, rest = rest.split(b"\n")
                for line in lines:
                    yield line + b"\n", None
                if dec.eof:
                    data = dec.unused_data
                    dec = zlib.decompressobj(wbits=31)
                    in_member = False
                else:
                    data = b""
    if rest:
        yield rest, None  # no newline at the end: reported as incomplete by the caller
    if in_member:
        yield b"", TRUNCATED_MEMBER


def scan(
    directory: str | os.PathLike[str],
    *,
    validate: bool = True,
    on_file: Callable[[Path], None] | None = None,
) -> Iterator[tuple[RecordRef, AnyRecord | dict[str, Any]] | Problem]:
    """Stream the whole archive: ``(ref, record)`` for good lines, `Problem` for bad ones.

    Records are `PostRecord` and `Tombstone` objects; with ``validate=False`` they are the
    parsed dicts, unchecked. ``on_file`` is called after each file is read (progress bars).
    """
    directory = Path(directory)
    files, strays = _list_files(directory)
    for stray in strays:
        yield Problem(stray.relative_to(directory).as_posix(), 0, "not an archive file; ignored")
    for path in files:
        rel = path.relative_to(directory).as_posix()
        reader = _gzip_lines if path.name.endswith(".gz") else _plain_lines
        lineno = 0
        try:
            for raw, damage in reader(path):
                if not raw:  # a file-level problem after the last line
                    yield Problem(rel, lineno + 1, damage or "unreadable")
                    break
                lineno += 1
                if damage:
                    yield Problem(rel, lineno, damage)
                    continue
                complete = raw.endswith(b"\n")
                body = raw.strip()
                if not body:
                    yield Problem(rel, lineno, "empty line")
                    continue
                try:
                    obj = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    why = INCOMPLETE_LINE if not complete else f"not JSON ({exc})"
                    yield Problem(rel, lineno, why)
                    continue
                if not isinstance(obj, dict):
                    yield Problem(rel, lineno, f"not a JSON object but {type(obj).__name__}")
                    continue
                if not validate:
                    yield RecordRef(rel, lineno), obj
                    continue
                try:
                    record = parse_record(obj)
                except ValidationError as exc:
                    yield Problem(rel, lineno, "invalid record: " + _summarize(exc))
                    continue
                yield RecordRef(rel, lineno), record
        except OSError as exc:
            yield Problem(rel, lineno + 1, f"cannot read: {_reason(exc)}")
        if on_file is not None:
            on_file(path)


def _summarize(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        path = err["loc"]
        if path and isinstance(path[0], int):  # the union's tag (False/True): not a field
            path = path[1:]
        loc = ".".join(str(p) for p in path)
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def iter_with_refs(
    directory: str | os.PathLike[str], *, on_file: Callable[[Path], None] | None = None
) -> Iterator[tuple[RecordRef, AnyRecord]]:
    """Every valid record with its location, in archive order; bad lines logged and skipped."""
    for item in scan(directory, on_file=on_file):
        if isinstance(item, Problem):
            log.warning("%s: skipped", item)
            continue
        ref, record = item
        assert isinstance(record, (PostRecord, Tombstone))
        yield ref, record


@overload
def iter_records(
    directory: str | os.PathLike[str], *, validate: Literal[True] = ...
) -> Iterator[AnyRecord]: ...
@overload
def iter_records(
    directory: str | os.PathLike[str], *, validate: Literal[False]
) -> Iterator[dict[str, Any]]: ...
def iter_records(
    directory: str | os.PathLike[str], *, validate: bool = True
) -> Iterator[AnyRecord] | Iterator[dict[str, Any]]:
    """Every record in archive order, streaming: `PostRecord`s *and* `Tombstone`s.

    All versions, and a record written twice (a resumed crawl) twice; bad lines are logged
    and skipped. Check ``record.deleted`` (or use `iter_posts`) before reading ``text``.
    ``validate=False`` yields the parsed JSON objects unchecked (faster).
    """

    def gen() -> Iterator[Any]:
        for item in scan(directory, validate=validate):
            if isinstance(item, Problem):
                log.warning("%s: skipped", item)
            else:
                yield item[1]

    return gen()


def iter_posts(directory: str | os.PathLike[str]) -> Iterator[PostRecord]:
    """Every `PostRecord` in archive order (all versions); tombstones left out."""
    for record in iter_records(directory):
        if isinstance(record, PostRecord):
            yield record


def iter_problems(directory: str | os.PathLike[str]) -> Iterator[Problem]:
    """Every line (or file) readers skip, as ``(file, line, reason)``; line 0 = whole file."""
    for item in scan(directory):
        if isinstance(item, Problem):
            yield item


# --------------------------------------------------------------------------------------------
# Current state
# --------------------------------------------------------------------------------------------


@overload
def current_map(
    directory: str | os.PathLike[str],
    project: Callable[[RecordRef, PostRecord], T],
    *,
    include_deleted: Literal[False] = ...,
    on_file: Callable[[Path], None] | None = ...,
) -> dict[str, T]: ...
@overload
def current_map(
    directory: str | os.PathLike[str],
    project: Callable[[RecordRef, AnyRecord], T],
    *,
    include_deleted: bool,
    on_file: Callable[[Path], None] | None = ...,
) -> dict[str, T]: ...
def current_map(
    directory: str | os.PathLike[str],
    project: Callable[[RecordRef, Any], T],
    *,
    include_deleted: bool = False,
    on_file: Callable[[Path], None] | None = None,
) -> dict[str, T]:
    """One pass: canonical_url -> ``project(ref, record)`` of its current record (`current_key`).

    Deleted posts (current record a tombstone) are left out unless ``include_deleted``; then
    ``project`` only ever sees `PostRecord`s. Keeps only the projections in memory.
    """
    best: dict[str, tuple[tuple[int, dt.datetime, int], bool, Any]] = {}
    for seq, (ref, record) in enumerate(iter_with_refs(directory, on_file=on_file)):
        key = current_key(record, seq)
        old = best.get(record.canonical_url)
        if old is None or key > old[0]:
            value = project(ref, record) if include_deleted or not record.deleted else None
            best[record.canonical_url] = (key, record.deleted, value)
    return {
        url: value for url, (_, deleted, value) in best.items() if include_deleted or not deleted
    }


def current_refs(
    directory: str | os.PathLike[str],
    *,
    include_deleted: bool = False,
    on_file: Callable[[Path], None] | None = None,
) -> dict[str, RecordRef]:
    """Per canonical_url, where its current record is (small: no record kept in memory)."""
    return current_map(
        directory, lambda ref, _record: ref, include_deleted=include_deleted, on_file=on_file
    )


def iter_at(
    directory: str | os.PathLike[str],
    refs: Iterable[RecordRef],
    *,
    on_file: Callable[[Path], None] | None = None,
) -> Iterator[tuple[RecordRef, AnyRecord]]:
    """The records at ``refs``, streaming, in archive order (stops after the last one)."""
    wanted = set(refs)
    if not wanted:
        return
    for item in scan(directory, on_file=on_file):
        if isinstance(item, Problem):
            continue  # callers found their refs in an earlier pass, which warned
        ref, record = item
        if ref in wanted:
            wanted.discard(ref)
            assert isinstance(record, (PostRecord, Tombstone))
            yield ref, record
            if not wanted:
                return


@overload
def iter_latest(
    directory: str | os.PathLike[str],
    *,
    include_deleted: Literal[False] = ...,
    on_file: Callable[[Path], None] | None = ...,
) -> Iterator[PostRecord]: ...
@overload
def iter_latest(
    directory: str | os.PathLike[str],
    *,
    include_deleted: bool,
    on_file: Callable[[Path], None] | None = ...,
) -> Iterator[AnyRecord]: ...
def iter_latest(
    directory: str | os.PathLike[str],
    *,
    include_deleted: bool = False,
    on_file: Callable[[Path], None] | None = None,
) -> Iterator[Any]:
    """The current record of every post, streaming, in archive order (two passes).

    Deleted posts are left out, unless ``include_deleted`` (then their tombstones come too).
    Memory: one `RecordRef` per post.
    """
    refs = current_refs(directory, include_deleted=include_deleted, on_file=on_file)
    for _ref, record in iter_at(directory, refs.values()):
        yield record


@overload
def latest(
    directory: str | os.PathLike[str], *, include_deleted: Literal[False] = ...
) -> dict[str, PostRecord]: ...
@overload
def latest(directory: str | os.PathLike[str], *, include_deleted: bool) -> dict[str, AnyRecord]: ...
def latest(directory: str | os.PathLike[str], *, include_deleted: bool = False) -> dict[str, Any]:
    """canonical_url -> current record (holds them all in memory; see `iter_latest`)."""
    return current_map(directory, lambda _ref, record: record, include_deleted=include_deleted)


def history(
    directory: str | os.PathLike[str],
    url: str,
    *,
    on_file: Callable[[Path], None] | None = None,
) -> list[tuple[RecordRef, AnyRecord]]:
    """Every version of the post at ``url`` (its canonical URL, or a URL it was fetched from).

    In version order (`current_key`: the last one is the current record); a record written
    twice (same `record_identity`) appears once, as its last copy. Trailing slashes are
    ignored. Empty if the archive has no such post.
    """
    wanted = url.rstrip("/")
    by_canonical: list[tuple[int, RecordRef, AnyRecord]] = []
    canonicals: set[str] = set()
    for seq, (ref, record) in enumerate(iter_with_refs(directory, on_file=on_file)):
        if record.canonical_url.rstrip("/") == wanted:
            by_canonical.append((seq, ref, record))
        elif record.url.rstrip("/") == wanted:
            canonicals.add(record.canonical_url)
    found = by_canonical
    if not found and canonicals:  # a URL the post was fetched from: all of its versions
        found = [
            (seq, ref, record)
            for seq, (ref, record) in enumerate(iter_with_refs(directory))
            if record.canonical_url in canonicals
        ]
    unique: dict[tuple[str, int, str], tuple[int, RecordRef, AnyRecord]] = {}
    for seq, ref, record in found:  # archive order: a later copy replaces an earlier one
        key = (record.canonical_url, *record_identity(record))
        old = unique.get(key)
        if old is None or current_key(record, seq) > current_key(old[2], old[0]):
            unique[key] = (seq, ref, record)
    ordered = sorted(
        unique.values(), key=lambda item: (item[2].canonical_url, current_key(item[2], item[0]))
    )
    return [(ref, record) for _seq, ref, record in ordered]


# --------------------------------------------------------------------------------------------
# Checks (blogarchive verify)
# --------------------------------------------------------------------------------------------


class VersionIssue(NamedTuple):
    """A finding about a record's place among its post's versions (or its ``warc`` ref).

    ``error`` fails ``verify``; ``warning`` and ``note`` are listed only.
    """

    ref: RecordRef
    level: Literal["error", "warning", "note"]
    message: str

    def __str__(self) -> str:
        prefix = "" if self.level == "error" else f"{self.level}: "
        return f"{self.ref}: {prefix}{self.message}"


class _Seen(NamedTuple):
    seq: int
    ref: RecordRef
    identity: str  # content_hash, or "deleted"
    previous_hash: str | None


class VersionChecker:
    """Checks the version chains of an archive; feed it every record with `add`.

    Memory: a few short strings per record, no text.
    """

    def __init__(self) -> None:
        self._posts: dict[str, dict[int, list[_Seen]]] = {}
        self._seq = 0

    def add(self, ref: RecordRef, record: AnyRecord) -> None:
        """Note one record (in archive order)."""
        version, identity = record_identity(record)
        versions = self._posts.setdefault(record.canonical_url, {})
        versions.setdefault(version, []).append(
            _Seen(self._seq, ref, identity, record.previous_hash)
        )
        self._seq += 1

    def issues(self) -> list[VersionIssue]:
        """All findings, in archive order.

        * error: two different records (content_hash, or post vs tombstone) of one post
          with the same version; reported at the later one, naming the first.
        * note: a record identical to an earlier one (same version and content_hash).
        * warning: version N > 1 whose ``previous_hash`` is no version N-1's content_hash
          (or there is no version N-1): a gap in the chain.
        """
        found: list[tuple[int, VersionIssue]] = []
        for url, versions in self._posts.items():
            for version, seen in versions.items():
                first: dict[str, _Seen] = {}
                for entry in seen:
                    earlier = first.get(entry.identity)
                    if earlier is not None:
                        msg = (
                            f"identical copy of version {version} of {url} at {earlier.ref}"
                            " (written twice); counted once"
                        )
                        found.append((entry.seq, VersionIssue(entry.ref, "note", msg)))
                        continue
                    if first:
                        other = next(iter(first.values()))
                        what = (
                            "a post and a tombstone"
                            if "deleted" in (other.identity, entry.identity)
                            else "different content_hash"
                        )
                        msg = (
                            f"conflicting records for version {version} of {url}: this and"
                            f" {other.ref} ({what})"
                        )
                        found.append((entry.seq, VersionIssue(entry.ref, "error", msg)))
                    first[entry.identity] = entry
                    gap = self._chain_gap(url, versions, version, entry)
                    if gap:
                        found.append((entry.seq, VersionIssue(entry.ref, "warning", gap)))
        found.sort(key=lambda item: item[0])
        return [issue for _seq, issue in found]

    @staticmethod
    def _chain_gap(
        url: str, versions: dict[int, list[_Seen]], version: int, entry: _Seen
    ) -> str | None:
        if version == 1:
            return None
        before = versions.get(version - 1)
        if not before:
            return f"version {version} of {url} follows no version {version - 1} (gap in the chain)"
        accepted: set[str | None] = set()
        for prev in before:
            if prev.identity != "deleted":
                accepted.add(prev.identity)
                continue
            # back after a tombstone: the hash it carries, or of any earlier version, or none
            accepted.update((prev.previous_hash, None))
            for older, seen in versions.items():
                if older < version - 1:
                    accepted.update(e.identity for e in seen if e.identity != "deleted")
        if entry.identity == "deleted":
            accepted.add(None)  # a tombstone's previous_hash is optional
        if entry.previous_hash in accepted:
            return None
        return (
            f"version {version} of {url}: previous_hash {entry.previous_hash} is not the"
            f" content_hash of any version {version - 1} (gap in the chain)"
        )


def check_warc_ref(directory: str | os.PathLike[str], ref: WarcRef) -> str | None:
    """Why a record's ``warc`` pointer is broken, or None if it is right.

    ``ref.file`` must be a file under ``ARCHIVE_DIR/warc/`` with ``offset``/``length``
    inside it, and what is there must be the response record ``ref.record_id``
    (`archive.warc.read_response`; skipped if that module cannot be imported).
    """
    root = Path(directory).resolve()
    path = (root / ref.file).resolve()
    if not path.is_relative_to(root / WARC_DIR):
        return f"warc file {ref.file} is not under {WARC_DIR}/"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return f"warc file {ref.file} does not exist"
    except OSError as exc:
        return f"cannot read warc file {ref.file}: {_reason(exc)}"
    if not path.is_file():
        return f"warc file {ref.file} is not a file"
    if ref.offset >= size or ref.offset + ref.length > size:
        return (
            f"warc record at offset {ref.offset} (+{ref.length} bytes) is beyond the end of"
            f" {ref.file} ({size} bytes)"
        )
    try:
        from archive import warc
    except ImportError:  # warcio missing: the checks above are all we can do
        return None
    try:
        warc.read_response(directory, ref)
    except warc.WarcError as exc:
        return f"bad warc record: {exc}"
    except Exception as exc:  # warcio on damaged data: a finding, not a crash of verify
        return f"bad warc record: {ref.file}@{ref.offset}: {type(exc).__name__}: {exc}"
    return None

"""Raw capture: the HTTP responses of a crawl, as WARC files next to the records.

Layout
------
::

    ARCHIVE_DIR/
      warc/
        <writer-id>/
          <yyyymmddThhmmssZ>-<pid>.warc.gz        one file per crawl run of that writer ...
          <yyyymmddThhmmssZ>-<pid>-<n>.warc.gz    ... and n = 2, 3, ... after each rotation

* WARC 1.1 (ISO 28500), written with warcio; every record is its own gzip member, so a
  record can be read by seeking to its offset (`schemas.post.WarcRef`).
* Each file starts with a ``warcinfo`` record (software, writer id, host, format).
* Each fetched response is a ``response`` record (HTTP status line, headers, body as Scrapy
  saw it after content decoding: ``Content-Encoding``, ``Transfer-Encoding`` and a stale
  ``Content-Length`` are kept as ``X-Archive-Orig-*`` headers, ``Content-Length`` is the
  stored body's), followed by a ``request`` record (``WARC-Concurrent-To`` the response)
  when the request headers are known.
* Extension fields of the response record (all optional): ``BlogArchive-Site`` (the blog's
  start URL the request was made for), ``BlogArchive-Callback`` (the spider callback that
  received it: ``parse_page``, ``parse_feed``, ``parse_sitemap``, ``parse_robots``; none for
  Scrapy's own robots.txt requests), ``BlogArchive-Redirected-From`` (the first URL of the
  redirect chain that ended here), ``BlogArchive-Hints`` (``feed`` or ``sitemap``: where the
  hints the page was requested with came from; absent: it had none).
* A file is created with ``O_EXCL`` and only appended to by the writer that created it;
  the stream is flushed after every record, so a killed crawl leaves at most a torn last
  gzip member, which readers skip with a warning.

This module is the one place that knows this layout; everything else uses `WarcWriter`,
`read_response` and `iter_responses`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http
import io
import logging
import os
import re
import socket
import zlib
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import BinaryIO, NamedTuple

from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import iso_date_to_datetime
from warcio.warcwriter import GzippingWrapper, WARCWriter

from archive.store import WRITER_ID, check_writer_id
from schemas.post import WarcRef

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "WARC_DIR",
    "WarcError",
    "WarcResponse",
    "WarcWriteError",
    "WarcWriter",
    "iter_responses",
    "iter_responses_with_fields",
    "read_response",
    "warc_files",
]

log = logging.getLogger(__name__)

WARC_DIR = "warc"
DEFAULT_MAX_FILE_SIZE = 1024**3  # rotate after 1 GiB
DEFAULT_COMPRESS_LEVEL = 6  # zlib level of each record's gzip member
SITE_HEADER = "BlogArchive-Site"
CALLBACK_HEADER = "BlogArchive-Callback"
REDIRECTED_FROM_HEADER = "BlogArchive-Redirected-From"
HINTS_HEADER = "BlogArchive-Hints"
_FILE_NAME = re.compile(r"(?P<ts>\d{8}T\d{6}Z)-(?P<pid>\d+)(?:-(?P<n>\d+))?\.warc\.gz\Z")
_CHUNK = 1 << 16
#: Response headers that no longer describe the stored body (it is stored decoded).
_TRANSFER_HEADERS = ("content-encoding", "transfer-encoding")

Headers = list[tuple[str, str]]


class WarcError(Exception):
    """A WARC record cannot be read (missing file, wrong offset, damaged data)."""


class WarcWriteError(WarcError):
    """Writing a WARC file failed (disk full, permissions, ...)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"cannot write {os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


class _LeveledWARCWriter(WARCWriter):
    """warcio's writer with one gzip member per record at a chosen zlib level: warcio always
    compresses at 9, which costs the crawl process several times what level 6 does for
    HTML that is only a few percent smaller."""

    def __init__(self, out: BinaryIO, level: int) -> None:
        super().__init__(out, gzip=False, warc_version="1.1")
        self.level = level

    def _write_warc_record(self, out: BinaryIO, record: ArcWarcRecord) -> None:
        member = GzippingWrapper(out)
        member.compressor = zlib.compressobj(self.level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        super()._write_warc_record(member, record)  # ends with member.flush(): the member ends


class WarcResponse(NamedTuple):
    """One stored response, as `iter_responses` yields it."""

    ref: WarcRef
    url: str
    status: int
    headers: Headers
    body: bytes
    fetched_at: dt.datetime


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _warc_date(moment: dt.datetime) -> str:
    """WARC-Date of an aware datetime: UTC, microseconds (WARC 1.1)."""
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stored_headers(headers: Headers, body_length: int) -> Headers:
    """Headers as they describe a stored, decoded body (originals kept as X-Archive-Orig-*)."""
    out: Headers = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in _TRANSFER_HEADERS or lowered == "content-length":
            out.append((f"X-Archive-Orig-{name}", value))
        else:
            out.append((name, value))
    out.append(("Content-Length", str(body_length)))
    return out


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


class WarcWriter:
    """Appends response (and request) records to this run's WARC file under ``warc/<id>/``.

    The file is created on the first write and rotated once it reaches ``max_file_size``
    bytes. Not thread-safe: one writer per process.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        writer_id: str = "main",
        *,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        info: dict[str, str] | None = None,
        compress_level: int = DEFAULT_COMPRESS_LEVEL,
    ) -> None:
        check_writer_id(writer_id)
        if max_file_size < 1:
            raise ValueError("max_file_size must be positive")
        if not 1 <= compress_level <= 9:
            raise ValueError("compress_level must be 1 to 9")
        self.compress_level = compress_level
        self.directory = Path(directory)
        self.writer_id = writer_id
        self.max_file_size = max_file_size
        self.info = dict(info or {})
        self._dir = self.directory / WARC_DIR / writer_id
        self._fh: BinaryIO | None = None
        self._path: Path | None = None
        self._warc: WARCWriter | None = None
        self._closed = False
        self.files: list[Path] = []  # every file this writer created

    @property
    def path(self) -> Path | None:
        """The file being written, if any."""
        return self._path

    def write_response(
        self,
        url: str,
        status: int,
        headers: Headers,
        body: bytes,
        fetched_at: dt.datetime,
        request_headers: Headers | None = None,
        *,
        method: str = "GET",
        extra: dict[str, str] | None = None,
    ) -> WarcRef:
        """Store one response (and its request); returns where the response record is.

        ``headers`` are written as given: pass them through `stored_headers` when ``body``
        was decoded. ``extra``: WARC extension fields (e.g. ``BlogArchive-Site``).
        """
        if self._closed:
            raise WarcWriteError(str(self._dir), "writer is closed")
        fh, warc = self._current()
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        date = _warc_date(fetched_at)
        warc_headers = {"WARC-Date": date, **(extra or {})}
        response = warc.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            warc_headers_dict=warc_headers,
            http_headers=StatusAndHeaders(f"{status} {reason}".strip(), headers, "HTTP/1.1"),
        )
        record_id = response.rec_headers.get_header("WARC-Record-ID")
        offset = self._write(fh, warc, response)
        length = fh.tell() - offset
        if request_headers is not None:
            parts = url.split("/", 3)
            target = "/" + parts[3] if len(parts) > 3 else "/"
            request = warc.create_warc_record(
                url,
                "request",
                payload=io.BytesIO(b""),
                length=0,
                warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record_id},
                http_headers=StatusAndHeaders(
                    f"{method} {target} HTTP/1.1", request_headers, is_http_request=True
                ),
            )
            self._write(fh, warc, request)
        assert self._path is not None
        rel = self._path.relative_to(self.directory).as_posix()
        return WarcRef(file=rel, offset=offset, length=length, record_id=record_id)

    def close(self) -> None:
        """Flush, fsync and close the current file; later writes fail."""
        self._close_file()
        self._closed = True

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _write(self, fh: BinaryIO, warc: WARCWriter, record: ArcWarcRecord) -> int:
        """Write one record as one gzip member and flush; on failure cut the file back."""
        offset = fh.tell()
        try:
            warc.write_record(record)
            fh.flush()
        except OSError as exc:
            path = self._path  # _truncate forgets it
            self._truncate(offset)
            raise WarcWriteError(str(path), exc.strerror or str(exc)) from exc
        return offset

    def _truncate(self, size: int) -> None:
        fh, path = self._fh, self._path
        self._fh, self._warc, self._path = None, None, None
        if fh is None or path is None:
            return
        with contextlib.suppress(OSError):
            fh.close()
        try:
            os.truncate(path, size)
        except OSError:
            log.error("could not cut %s back to %d bytes after a failed write", path, size)

    def _current(self) -> tuple[BinaryIO, WARCWriter]:
        if self._fh is not None and self._fh.tell() >= self.max_file_size:
            self._close_file()
        if self._fh is None or self._warc is None:
            self._open_file()
        assert self._fh is not None and self._warc is not None
        return self._fh, self._warc

    def _open_file(self) -> None:
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarcWriteError(str(self._dir), exc.strerror or str(exc)) from exc
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        base = f"{stamp}-{os.getpid()}"
        n = 1
        while True:
            name = f"{base}.warc.gz" if n == 1 else f"{base}-{n}.warc.gz"
            path = self._dir / name
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                n += 1
                continue
            except OSError as exc:
                raise WarcWriteError(str(path), exc.strerror or str(exc)) from exc
            break
        self._fh = os.fdopen(fd, "wb")
        self._path = path
        self.files.append(path)
        self._warc = _LeveledWARCWriter(self._fh, self.compress_level)
        info = {
            "software": f"blogarchive/{_package_version('blogarchive')} "
            f"warcio/{_package_version('warcio')}",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
            "warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "blogarchive-writer-id": self.writer_id,
            **self.info,
        }
        self._write(self._fh, self._warc, self._warc.create_warcinfo_record(name, info))

    def _close_file(self) -> None:
        fh = self._fh
        self._fh, self._warc, self._path = None, None, None
        if fh is None:
            return
        try:
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fh.close()


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def warc_files(archive_dir: str | os.PathLike[str]) -> list[Path]:
    """All WARC files of all writers, in (creation time, writer, pid, n) order."""
    root = Path(archive_dir) / WARC_DIR
    found: list[tuple[tuple[str, str, int, int], Path]] = []
    if not root.is_dir():
        return []
    for writer in sorted(root.iterdir()):
        if not writer.is_dir() or not WRITER_ID.match(writer.name):
            continue
        for path in writer.iterdir():
            m = _FILE_NAME.match(path.name)
            if m and path.is_file():
                key = (m["ts"], writer.name, int(m["pid"]), int(m["n"] or 1))
                found.append((key, path))
    return [path for _key, path in sorted(found)]


def _parse_member(data: bytes) -> ArcWarcRecord:
    loader = ArcWarcRecordLoader(verify_http=False)
    return loader.parse_record_stream(io.BytesIO(data), known_format="warc")


def _payload(record: ArcWarcRecord) -> bytes:
    """The response body; decoded if the stored headers still name a content/transfer coding."""
    raw = record.raw_stream.read()
    headers = record.http_headers
    if headers is None:
        return raw
    if headers.get_header("Transfer-Encoding") or headers.get_header("Content-Encoding"):
        try:
            record.raw_stream = io.BytesIO(raw)
            return record.content_stream().read()
        except Exception:  # noqa: BLE001 - undecodable: give the bytes as stored
            return raw
    return raw


def _response(record: ArcWarcRecord) -> tuple[str, int, Headers, bytes]:
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    http_headers = record.http_headers
    if http_headers is None:
        raise WarcError(f"response record for {url} has no HTTP headers")
    status = int(http_headers.get_statuscode() or 0)
    headers = [(str(k), str(v)) for k, v in http_headers.headers]
    return url, status, headers, _payload(record)


def read_response(
    archive_dir: str | os.PathLike[str], ref: WarcRef
) -> tuple[str, int, Headers, bytes]:
    """``(url, status, headers, body)`` of the response record ``ref`` points to."""
    path = Path(archive_dir) / ref.file
    try:
        with open(path, "rb") as fh:
            fh.seek(ref.offset)
            member = fh.read(ref.length)
    except OSError as exc:
        raise WarcError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(member) != ref.length:
        raise WarcError(f"{ref.file}: only {len(member)} of {ref.length} bytes at {ref.offset}")
    try:
        dec = zlib.decompressobj(wbits=31)
        data = dec.decompress(member)
        if not dec.eof:
            raise WarcError(f"{ref.file}@{ref.offset}: incomplete gzip member")
        record = _parse_member(data)
    except (zlib.error, ValueError) as exc:
        raise WarcError(f"{ref.file}@{ref.offset}: not a WARC record ({exc})") from exc
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    if record_id != ref.record_id:
        raise WarcError(f"{ref.file}@{ref.offset}: record {record_id}, expected {ref.record_id}")
    if record.rec_type != "response":
        raise WarcError(f"{ref.file}@{ref.offset}: a {record.rec_type} record, not a response")
    return _response(record)


def _members(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """``(offset, length, decompressed data)`` of each gzip member; warns and stops at damage."""
    dec = zlib.decompressobj(wbits=31)
    start = 0  # file offset of the current member
    pos = 0  # file offset of the next byte fed to `dec`
    parts: list[bytes] = []
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            data = chunk
            while data:
                try:
                    parts.append(dec.decompress(data))
                except zlib.error as exc:
                    log.warning(
                        "%s: corrupt gzip data at byte %d (%s); rest skipped", path, start, exc
                    )
                    return
                if dec.eof:
                    used = len(data) - len(dec.unused_data)
                    end = pos + used
                    yield start, end - start, b"".join(parts)
                    parts = []
                    start = pos = end
                    data = dec.unused_data
                    dec = zlib.decompressobj(wbits=31)
                else:
                    pos += len(data)
                    data = b""
    if pos > start:
        log.warning("%s: torn last record at byte %d (interrupted write); skipped", path, start)


def iter_responses(archive_dir: str | os.PathLike[str]) -> Iterator[WarcResponse]:
    """Every response record of every WARC file of the archive, in archive order.

    ``(ref, url, status, headers, body, fetched_at)``. A torn or corrupt member (a crawl
    killed while writing) ends that file with a warning.
    """
    for response, _fields in iter_responses_with_fields(archive_dir):
        yield response


def iter_responses_with_fields(
    archive_dir: str | os.PathLike[str],
) -> Iterator[tuple[WarcResponse, dict[str, str]]]:
    """`iter_responses`, each with the BlogArchive-* fields of its record (may be empty)."""
    archive_dir = Path(archive_dir)
    for path in warc_files(archive_dir):
        rel = path.relative_to(archive_dir).as_posix()
        for offset, length, data in _members(path):
            try:
                record = _parse_member(data)
            except Exception as exc:  # noqa: BLE001 - warcio raises several kinds
                log.warning("%s@%d: not a WARC record (%s); rest skipped", rel, offset, exc)
                break
            if record.rec_type != "response":
                continue
            headers = record.rec_headers
            date = headers.get_header("WARC-Date") or ""
            fetched_at = iso_date_to_datetime(date).replace(tzinfo=dt.timezone.utc)
            extra = {
                name: value
                for name in (SITE_HEADER, CALLBACK_HEADER, REDIRECTED_FROM_HEADER, HINTS_HEADER)
                if (value := headers.get_header(name))
            }
            ref = WarcRef(
                file=rel,
                offset=offset,
                length=length,
                record_id=headers.get_header("WARC-Record-ID") or "",
            )
            try:
                url, status, http_headers, body = _response(record)
            except WarcError as exc:
                log.warning("%s@%d: %s; skipped", rel, offset, exc)
                continue
            yield WarcResponse(ref, url, status, http_headers, body, fetched_at), extra

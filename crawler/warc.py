"""Raw capture: every response the downloader fetched goes into the archive's WARC files.

Two downloader middlewares share one `archive.warc.WarcWriter` per crawl:

* `WarcCaptureMiddleware` (priority 585, below HttpCompressionMiddleware's 590) stores every
  response as the spider receives it: body decoded (gzip, br, ...), retried 5xx, 404s,
  robots.txt, sitemaps, feeds and pages alike.
* `WarcRedirectCaptureMiddleware` (priority 605, above RedirectMiddleware's 600) stores the
  3xx responses, which RedirectMiddleware turns into new requests before any middleware
  below 600 sees them. Their bodies are stored as received (still content-encoded). For
  other responses it notes the ``Content-Encoding`` HttpCompressionMiddleware will remove,
  so the stored headers say how the body came (``X-Archive-Orig-Content-Encoding``).

The gzip compression, digests and file writes run on one writer thread (`WARC_WRITE_THREAD`,
on by default; zlib and hashlib let go of the GIL while they work), so the reactor thread
does not wait for them; `process_response` awaits the write, so a response reaches the
spider only once it is in the WARC file, as before. One thread keeps the records in the
order they were handed over.

`process_response` runs in decreasing priority order, so no single priority sees both.
A response is stored once: one the redirect capture stored (a 3xx that is not followed)
is skipped by the other. The `schemas.post.WarcRef` of the stored response is put into
``request.meta["warc"]`` (``response.meta`` is that same dict once the engine ties the
response to its request), where the spider picks it up for the record.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from archive.warc import (
    CALLBACK_HEADER,
    DEFAULT_COMPRESS_LEVEL,
    DEFAULT_MAX_FILE_SIZE,
    HINTS_HEADER,
    REDIRECTED_FROM_HEADER,
    SITE_HEADER,
    WarcWriteError,
    WarcWriter,
    stored_headers,
)
from crawler.auth import SECRET_HEADERS
from schemas.post import WarcRef

logger = logging.getLogger(__name__)

_captures: weakref.WeakKeyDictionary[Crawler, _Capture] = weakref.WeakKeyDictionary()


def _headers(headers: object) -> list[tuple[str, str]]:
    """Scrapy `Headers` (bytes names, lists of bytes values) as (name, value) strings."""
    out: list[tuple[str, str]] = []
    for name, values in headers.items():  # type: ignore[attr-defined]
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            out.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


class _Capture:
    """The crawl's WARC writer and what it has stored so far."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        directory = Path(settings.get("ARCHIVE_DIR", "archive-data"))
        self.writer = WarcWriter(
            directory,
            writer_id=settings.get("ARCHIVE_WRITER_ID", "main"),
            max_file_size=settings.getint("WARC_MAX_FILE_SIZE", DEFAULT_MAX_FILE_SIZE),
            compress_level=settings.getint("WARC_COMPRESS_LEVEL", DEFAULT_COMPRESS_LEVEL),
            info={"http-header-user-agent": settings.get("USER_AGENT", "")},
        )
        self.stored: weakref.WeakSet[Response] = weakref.WeakSet()
        #: Content-Encoding as received, noted before HttpCompressionMiddleware removes it
        self.encodings: weakref.WeakKeyDictionary[Request, str] = weakref.WeakKeyDictionary()
        self.failed = False
        self.thread: ThreadPoolExecutor | None = None
        if settings.getbool("WARC_WRITE_THREAD", True):
            self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc-writer")
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    async def store(self, request: Request, response: Response, *, decoded: bool) -> WarcRef | None:
        """Write ``response`` once; returns its ref (None when it was stored already)."""
        if response in self.stored or self.failed or not response.url.startswith("http"):
            return None  # data: URLs are the spider's own internal requests
        self.stored.add(response)
        headers = _headers(response.headers)
        if decoded:
            encoding = self.encodings.pop(request, None)
            if encoding and not any(k.lower() == "content-encoding" for k, _v in headers):
                headers.append(("Content-Encoding", encoding))  # renamed X-Archive-Orig-*
            headers = stored_headers(headers, len(response.body))
        else:  # as received, minus the framing the HTTP client already undid
            headers = [
                (f"X-Archive-Orig-{k}" if k.lower() in ("transfer-encoding", "content-length")
                 else k, v)
                for k, v in headers
            ] + [("Content-Length", str(len(response.body)))]  # fmt: skip
        extra: dict[str, str] = {}
        if site := request.meta.get("site"):
            extra[SITE_HEADER] = str(site)
        callback = getattr(request.callback, "__name__", None)
        if callback:
            extra[CALLBACK_HEADER] = callback
        if hints := request.meta.get("hints"):
            extra[HINTS_HEADER] = "feed" if getattr(hints, "in_feed", False) else "sitemap"
        if chain := request.meta.get("redirect_urls"):
            extra[REDIRECTED_FROM_HEADER] = str(chain[0])
        write = functools.partial(
            self.writer.write_response,
            response.url,
            response.status,
            headers,
            response.body,
            datetime.now(timezone.utc),
            [(k, v) for k, v in _headers(request.headers) if k.lower() not in SECRET_HEADERS],
            method=request.method,
            extra=extra,
        )
        try:
            if self.thread is None:
                ref = self._write(write)
            else:
                loop = asyncio.get_running_loop()
                ref = await loop.run_in_executor(self.thread, self._write, write)
        except WarcWriteError as exc:
            logger.critical("cannot write the WARC files: %s; stopping the crawl", exc)
            self.crawler.stats.inc_value("blogarchive/errors/warc_write")
            if self.crawler.engine is not None:
                deferred_from_coro(
                    self.crawler.engine.close_spider_async(reason="warc_write_error")
                )
            return None
        if ref is None:
            return None
        self.crawler.stats.inc_value("blogarchive/warc/responses")
        request.meta["warc"] = ref
        return ref

    def _write(self, write: Callable[[], WarcRef]) -> WarcRef | None:
        """One response (on the writer thread); after a failed write, nothing more: only the
        first failure raises."""
        if self.failed:
            return None
        try:
            return write()
        except WarcWriteError:
            self.failed = True
            raise

    def close(self) -> None:
        """Finish the queued writes, then flush and close the current WARC file (on
        spider_closed)."""
        if self.thread is not None:
            self.thread.shutdown(wait=True)
        self.writer.close()


def _capture_for(crawler: Crawler) -> _Capture:
    if not crawler.settings.getbool("WARC_ENABLED", True):
        raise NotConfigured
    capture = _captures.get(crawler)
    if capture is None:
        capture = _captures[crawler] = _Capture(crawler)
    return capture


class WarcCaptureMiddleware:
    """Stores every response, body decoded, in the archive's WARC files (see module doc)."""

    decoded = True

    def __init__(self, capture: _Capture) -> None:
        self.capture = capture

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        return cls(_capture_for(crawler))

    def process_request(self, request: Request) -> None:
        # a redirected or retried request inherits its predecessor's meta: no stale ref
        request.meta.pop("warc", None)

    async def process_response(self, request: Request, response: Response) -> Response:
        await self.capture.store(request, response, decoded=self.decoded)
        return response


class WarcRedirectCaptureMiddleware(WarcCaptureMiddleware):
    """Stores the 3xx responses before RedirectMiddleware replaces them by new requests."""

    decoded = False

    async def process_response(self, request: Request, response: Response) -> Response:
        if 300 <= response.status < 400:
            await self.capture.store(request, response, decoded=False)
        elif encoding := response.headers.get(b"Content-Encoding"):
            self.capture.encodings[request] = encoding.decode("latin-1")
        return response

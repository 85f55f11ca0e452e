"""Credentials in a start URL (`https://user:password@blog.example/`): HTTP basic auth for
that blog's host, and never the password in a log line, a record or a WARC request record.

`split_credentials` takes the user info off a start URL (the spider keeps the bare URL as the
blog's identity); `BasicAuthMiddleware` (downloader middleware) sends `Authorization: Basic`
on every request to the blog's own scheme, host and port (redirects off the blog are refused
by `crawler.scope` before they get here), robots.txt included. `redact` masks user info in
any text that is logged.
"""

from __future__ import annotations

import base64
import logging
import re
import types
from urllib.parse import unquote, urlsplit, urlunsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:'\"]*(?::[^/@\s'\"]*)?@")
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


def redact(text: str) -> str:
    """`http://user:secret@host/` -> `http://***@host/` anywhere in `text` (any scheme:
    `redis://:secret@host/0` too)."""
    return _USERINFO.sub(r"\1***@", text)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(the URL without user info, (user, password) or None)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return bare, (unquote(parts.username), unquote(parts.password or ""))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port
    if port == {"http": 80, "https": 443}.get(parts.scheme):
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


class BasicAuthMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.headers: dict[tuple[str, str, int | None], bytes] = {}
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BasicAuthMiddleware:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        for site, (user, password) in getattr(spider, "credentials", {}).items():
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self.headers[_origin(site)] = f"Basic {token}".encode("ascii")
            logger.info("%s: sending HTTP basic auth as user %r", site, user)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if not self.headers or b"Authorization" in request.headers:
            return
        header = self.headers.get(_origin(request.url))
        if header is not None:
            request.headers[b"Authorization"] = header


def install_log_redaction() -> None:
    """Mask URL user info in every log record from now on, whichever handler writes it (a
    LogRecord factory: Scrapy installs its handlers as the crawler starts). The message is
    masked when a handler formats it, so records no handler emits (DEBUG lines at INFO, each
    with a whole item) cost nothing."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacting", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.getMessage = types.MethodType(_redacted_message, record)  # type: ignore[method-assign]
        return record

    factory.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _redacted_message(record: logging.LogRecord) -> str:
    message = logging.LogRecord.getMessage(record)
    return redact(message) if "@" in message else message

"""`urljoin` and `urlsplit` that never raise on a page's broken URLs.

Python's own raise ValueError for a bracketed host that is no IP address
(``http://[ccpa-preferences]/``), an out-of-range port and the like; a page may carry any of
these in an href, its <base> or its canonical link, and one bad link must not fail the page.
"""

from __future__ import annotations

from urllib import parse

__all__ = ["urljoin", "urlsplit"]

_EMPTY = parse.SplitResult("", "", "", "", "")


def urljoin(base: str, url: str) -> str:
    """`urllib.parse.urljoin`, or "" when either URL cannot be parsed (callers drop it)."""
    try:
        return parse.urljoin(base, url)
    except ValueError:
        return ""


def urlsplit(url: str) -> parse.SplitResult:
    """`urllib.parse.urlsplit`, or an empty result when `url` cannot be parsed."""
    try:
        return parse.urlsplit(url)
    except ValueError:
        return _EMPTY

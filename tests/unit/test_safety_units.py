"""The pure parts of the safety components (see tests/unit/test_safety_*.py for the crawls)."""

from __future__ import annotations

import gzip

import pytest
from scrapy.settings import Settings

from crawler import settings as crawler_settings
from crawler.auth import redact, split_credentials
from crawler.budget import Budget, url_rule_broken
from crawler.commands.crawl import exit_status
from crawler.safety import bomless_utf16, gzip_complete
from schemas.post import clean_text


def _default_budget() -> Budget:
    settings = Settings()
    settings.setmodule(crawler_settings)
    return Budget.from_settings(settings)


@pytest.mark.parametrize(
    "url, rule",
    [
        ("https://b.example/2024/01/post/", None),
        ("https://b.example/" + "a" * 3000, "url_too_long"),
        ("https://b.example/" + "x/" * 30, "repeated_segments"),
        ("https://b.example/" + "".join(f"s{i}/" for i in range(30)), "path_too_deep"),
        ("https://b.example/a/b/a/b/a/b/", None),
        ("https://b.example/a/b/a/b/a/b/a/b/", "repeated_segments"),
    ],
)
def test_url_rules(url, rule):
    assert url_rule_broken(url, _default_budget()) == rule


def test_gzip_complete():
    whole = gzip.compress(b"<html>" + b"x" * 5000 + b"</html>")
    assert gzip_complete(whole)
    assert gzip_complete(whole + gzip.compress(b"more"))  # concatenated members
    assert not gzip_complete(whole[: len(whole) // 2])
    assert not gzip_complete(whole + gzip.compress(b"more")[:8])


def test_bomless_utf16():
    page = "<html><body><p>Grüße aus dem Garten</p></body></html>"
    assert bomless_utf16(page.encode("utf-16-le")) == "utf-16-le"
    assert bomless_utf16(page.encode("utf-16-be")) == "utf-16-be"
    assert bomless_utf16(page.encode("utf-16")) is None  # has a BOM: Scrapy decodes it
    assert bomless_utf16(page.encode("utf-8")) is None


def test_clean_text():
    assert clean_text("a\x00b\x07c\x1b[31md\x1b[0me\x9b2Jf") == "abcdef"
    assert clean_text("title\x1b]0;owned\x07 rest") == "title rest"
    assert clean_text("line\r\nnext\rthird\tx") == "line\nnext\nthird\tx"
    assert clean_text("Grüße — “Zitat” ✓") == "Grüße — “Zitat” ✓"


def test_credentials():
    assert split_credentials("https://anna:s%21cret@b.example/blog/") == (
        "https://b.example/blog/",
        ("anna", "s!cret"),
    )
    assert split_credentials("https://b.example/") == ("https://b.example/", None)
    text = "site https://anna:pw@b.example/ and redis://:pw@10.0.0.5:6379/0, mail a@b.example"
    assert redact(text) == (
        "site https://***@b.example/ and redis://***@10.0.0.5:6379/0, mail a@b.example"
    )


@pytest.mark.parametrize(
    "reason, critical, code",
    [
        ("finished", 0, 0),
        ("finished", 1, 1),
        ("archive_write_error", 0, 1),
        ("redis_unavailable", 0, 1),
        ("bootstrap_failed", 0, 1),
        ("shutdown", 0, 2),
        ("forced_shutdown", 0, 2),
    ],
)
def test_exit_status(reason, critical, code):
    assert exit_status(reason, critical) == code

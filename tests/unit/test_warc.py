"""Raw capture: WarcWriter/readers (archive/warc.py) and the capture middleware on a local crawl."""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import zlib
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.store import iter_records
from archive.warc import (
    CALLBACK_HEADER,
    REDIRECTED_FROM_HEADER,
    SITE_HEADER,
    WarcError,
    WarcWriter,
    iter_responses,
    iter_responses_with_fields,
    read_response,
    warc_files,
)
from crawler.extract.page import analyse_page
from crawler.urls import url_key
from schemas.post import WarcRef
from tests.conftest import run_crawl
from tests.httpserver import Route, SiteServer

NOW = dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=dt.timezone.utc)
HTML = [("Content-Type", "text/html; charset=utf-8")]


def write_some(directory: Path, n: int = 4, **kwargs: object) -> tuple[WarcWriter, list[WarcRef]]:
    writer = WarcWriter(directory, writer_id="w1", **kwargs)  # type: ignore[arg-type]
    refs = []
    for i in range(n):
        body = f"<html><body><p>Seite {i} – Grüße</p></body></html>".encode() * (i + 1)
        refs.append(
            writer.write_response(
                f"http://blog.test/p/{i}/",
                200 if i % 2 == 0 else 404,
                HTML,
                body,
                NOW + dt.timedelta(seconds=i),
                [("User-Agent", "blogarchive/test")],
                extra={SITE_HEADER: "http://blog.test/"},
            )
        )
    return writer, refs


def test_round_trip_offsets_and_layout(tmp_path: Path) -> None:
    writer, refs = write_some(tmp_path)
    writer.close()
    files = warc_files(tmp_path)
    assert len(files) == 1
    path = files[0]
    assert path.parent == tmp_path / "warc" / "w1"
    assert path.name.endswith(".warc.gz")
    raw = path.read_bytes()
    for i, ref in enumerate(refs):
        assert ref.file == path.relative_to(tmp_path).as_posix()
        # the ref is exactly one gzip member, holding the response record
        member = raw[ref.offset : ref.offset + ref.length]
        dec = zlib.decompressobj(wbits=31)
        data = dec.decompress(member)
        assert dec.eof and dec.unused_data == b""
        assert data.startswith(b"WARC/1.1\r\n") and b"WARC-Type: response" in data
        assert ref.record_id.encode() in data
        url, status, headers, body = read_response(tmp_path, ref)
        assert url == f"http://blog.test/p/{i}/"
        assert status == (200 if i % 2 == 0 else 404)
        assert ("Content-Type", "text/html; charset=utf-8") in headers
        assert body == f"<html><body><p>Seite {i} – Grüße</p></body></html>".encode() * (i + 1)
    # a standard reader agrees: warcinfo first, response + request pairs, same offsets
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        seen = [(r.rec_type, it.get_record_offset()) for r in it]
    assert seen[0][0] == "warcinfo"
    assert [o for t, o in seen if t == "response"] == [r.offset for r in refs]
    assert [t for t, _ in seen[1:]] == ["response", "request"] * len(refs)
    # iter_responses: same refs, dates, fields
    got = list(iter_responses(tmp_path))
    assert [g.ref for g in got] == refs
    assert [g.fetched_at for g in got] == [NOW + dt.timedelta(seconds=i) for i in range(4)]
    fields = [f for _r, f in iter_responses_with_fields(tmp_path)]
    assert fields == [{SITE_HEADER: "http://blog.test/"}] * 4


def test_rotation_by_size(tmp_path: Path) -> None:
    writer, refs = write_some(tmp_path, n=6, max_file_size=1500)
    writer.close()
    files = warc_files(tmp_path)
    assert len(files) > 1 and len(writer.files) == len(files)
    assert {ref.file for ref in refs} == {f.relative_to(tmp_path).as_posix() for f in files}
    for path in files:  # every file starts with its own warcinfo
        with open(path, "rb") as fh:
            assert next(iter(ArchiveIterator(fh))).rec_type == "warcinfo"
    assert [r.ref for r in iter_responses(tmp_path)] == refs
    for ref in refs:
        read_response(tmp_path, ref)


def test_wrong_ref_is_refused(tmp_path: Path) -> None:
    writer, refs = write_some(tmp_path, n=2)
    writer.close()
    with pytest.raises(WarcError, match="expected"):
        read_response(tmp_path, refs[0].model_copy(update={"record_id": "<urn:uuid:nope>"}))
    with pytest.raises(WarcError):
        read_response(tmp_path, refs[0].model_copy(update={"offset": refs[0].offset + 1}))
    with pytest.raises(WarcError):
        read_response(tmp_path, refs[0].model_copy(update={"file": "warc/w1/missing.warc.gz"}))


def test_torn_last_member_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer, refs = write_some(
        tmp_path,
        n=3,
    )
    writer.close()
    path = warc_files(tmp_path)[0]
    last = refs[-1]
    # a kill in the middle of the last response: its member is cut short
    with open(path, "r+b") as fh:
        fh.truncate(last.offset + last.length // 2)
    with caplog.at_level(logging.WARNING, logger="archive.warc"):
        got = list(iter_responses(tmp_path))
    assert [g.ref for g in got] == refs[:2]
    assert any("torn last record" in r.getMessage() for r in caplog.records)
    assert read_response(tmp_path, refs[1])[0] == "http://blog.test/p/1/"
    with pytest.raises(WarcError):
        read_response(tmp_path, last)


def test_flushed_after_every_record(tmp_path: Path) -> None:
    """What a kill -9 would leave: every acknowledged record is already on disk."""
    writer, refs = write_some(tmp_path, n=2)
    assert writer.path is not None
    snapshot = tmp_path / "copy"
    (snapshot / "warc" / "w1").mkdir(parents=True)
    (snapshot / refs[0].file).write_bytes(writer.path.read_bytes())  # writer still open
    assert [r.ref for r in iter_responses(snapshot)] == refs
    writer.close()


# --------------------------------------------------------------------------------------------
# The middleware, on a real crawl of a tiny local blog
# --------------------------------------------------------------------------------------------


def article(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='de'><head><title>{title} - Testblog</title></head>"
        "<body class='single single-post'><header><nav><a href='{base}/'>Start</a></nav>"
        f"</header><main><article class='post'><h1 class='entry-title'>{title}</h1>"
        "<div class='entry-meta'>von <span class='author vcard'><a class='url fn n' "
        "href='{base}/author/anna/'>Anna Autorin</a></span> am <time class='entry-date "
        "published' datetime='2024-01-15T10:00:00+01:00'>15. Januar 2024</time></div>"
        f"<div class='entry-content'>{body}</div></article></main>"
        "<footer><p>© Testblog</p></footer></body></html>"
    ).encode()


FIRST = [
    "Im Januar haben wir den Garten winterfest gemacht, Beet für Beet und Strauch für Strauch.",
    "Zuerst kamen die Rosen dran, dann die Beete, am Ende der Kompost und die Regentonne.",
    "Wer das nachmachen will, braucht vor allem Geduld und ein gutes Paar Handschuhe.",
]
SECOND = [
    "Der zweite Beitrag erzählt vom Brotbacken mit Sauerteig, der drei Tage reifen muss.",
    "Mehl, Wasser und Salz genügen; der Rest ist Zeit, Wärme und ein wenig Aufmerksamkeit.",
    "Am Ende steht ein Laib mit krachender Kruste, den die ganze Familie sofort aufisst.",
]
HOME = (
    b"<!DOCTYPE html><html lang='de'><head><title>Testblog</title></head><body class='home blog'>"
    b"<main><article class='post'><h2><a href='{base}/2024/01/garten/'>Garten</a></h2>"
    b"<p>Teaser</p></article><article class='post'><h2><a href='{base}/?p=2'>Brot</a></h2>"
    b"<p>Teaser</p></article><a href='{base}/2024/01/missing/'>kaputt</a>"
    b"<a href='{base}/2024/01/nowhere/'>302 without Location</a></main></body></html>"
)


def routes() -> dict[str, Route]:
    return {
        "/robots.txt": Route(200, b"User-agent: *\nDisallow:\n", {"Content-Type": "text/plain"}),
        "/": Route(200, HOME),
        "/2024/01/garten/": Route(
            200,
            gzip.compress(article("Garten im Winter", FIRST)),
            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
        ),
        "/?p=2": Route(301, b"", {"Location": "{base}/2024/01/brot/"}),
        "/2024/01/brot/": Route(200, article("Brot backen", SECOND)),
        "/2024/01/nowhere/": Route(302, b"<html><body>moved?</body></html>"),  # not followed
    }


@pytest.mark.parametrize("thread", ["True", "False"])
def test_middleware_stores_every_response_once_and_refs_reextract(
    tmp_path: Path, thread: str
) -> None:
    archive_dir = tmp_path / "archive"
    with SiteServer(routes()) as site:
        proc = run_crawl(
            [site.url],
            archive_dir,
            "EXTRACT_WORKERS=0",
            "CRAWL_DELAY_ENABLED=False",
            f"WARC_WRITE_THREAD={thread}",
        )
        requested = Counter(site.requests)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.log[-3000:]

    stored = list(iter_responses_with_fields(archive_dir))
    paths = Counter(
        urlsplit(r.url).path + (f"?{urlsplit(r.url).query}" if urlsplit(r.url).query else "")
        for r, _f in stored
    )
    assert paths == requested  # everything fetched, each exactly once (redirect and 404 too)
    by_path = {urlsplit(r.url).path + ("?p=2" if "p=2" in r.url else ""): (r, f) for r, f in stored}
    redirect, fields = by_path["/?p=2"]
    assert redirect.status == 301
    assert ("Location", f"{site.url}2024/01/brot/") in redirect.headers
    assert fields[SITE_HEADER] == site.url and fields[CALLBACK_HEADER] == "parse_page"
    assert by_path["/2024/01/brot/"][1][REDIRECTED_FROM_HEADER] == f"{site.url}?p=2"
    assert by_path["/2024/01/missing/"][0].status == 404
    assert by_path["/2024/01/nowhere/"][0].status == 302
    garten = by_path["/2024/01/garten/"][0]
    assert garten.body.startswith(b"<!DOCTYPE html>")  # stored decoded, as the spider saw it
    assert not any(k.lower() == "content-encoding" for k, _v in garten.headers)
    assert ("X-Archive-Orig-Content-Encoding", "gzip") in garten.headers
    assert ("Content-Length", str(len(garten.body))) in garten.headers

    records = list(iter_records(archive_dir))
    assert {url_key(r.url) for r in records} == {
        url_key(f"{site.url}2024/01/garten/"),
        url_key(f"{site.url}2024/01/brot/"),
    }
    for record in records:
        assert record.warc is not None
        url, status, headers, body = read_response(archive_dir, record.warc)
        assert (url, status) == (record.url, 200)
        again = analyse_page(body, url, encoding="utf-8", site=record.site, status=status)
        assert again.record is not None
        assert again.record.content_hash == record.content_hash


def test_warc_can_be_switched_off(tmp_path: Path) -> None:
    archive_dir = tmp_path / "archive"
    with SiteServer(routes()) as site:
        proc = run_crawl([site.url], archive_dir, "EXTRACT_WORKERS=0", "WARC_ENABLED=False")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.log[-3000:]
    assert not (archive_dir / "warc").exists()
    records = list(iter_records(archive_dir))
    assert len(records) == 2 and all(r.warc is None for r in records)


def test_reextract_gives_one_record_per_url_and_canonical(tmp_path: Path) -> None:
    """Offline re-extraction of a hand-made WARC: aliases and refetches make one record."""
    from archive.reextract import reextract

    site = "http://blog.test/"
    page = article("Garten im Winter", FIRST).replace(b"{base}", b"http://blog.test")
    alias = page.replace(
        b"<head>", b"<head><link rel='canonical' href='http://blog.test/2024/01/garten/'>"
    )
    fields = {SITE_HEADER: site, CALLBACK_HEADER: "parse_page"}
    with WarcWriter(tmp_path / "src") as writer:
        for url, status, body in [
            (f"{site}2024/01/garten/", 200, page),
            (f"{site}2024/01/garten", 200, page),  # the same URL again (trailing slash)
            (f"{site}2024/01/alias/", 200, alias),  # canonical: the first one
            (f"{site}2024/01/gone/", 404, page),  # errors are stored, never records
            ("http://elsewhere.test/2024/01/garten/", 200, page),  # redirected off the blog
        ]:
            writer.write_response(url, status, HTML, body, NOW, extra=fields)
    result = reextract(tmp_path / "src", tmp_path / "out", workers=0)
    records = list(iter_records(tmp_path / "out"))
    assert [r.url for r in records] == [f"{site}2024/01/garten/"]
    assert records[0].warc is not None and records[0].fetched_at == NOW
    assert read_response(tmp_path / "out", records[0].warc)[0] == records[0].url
    assert result.skipped == Counter({"duplicate": 2, "redirected_offsite": 1})

"""The archive store: writer, reader, crash safety and write errors."""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import json
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from archive import store
from archive.cli import main
from archive.store import ArchiveWriteError, ArchiveWriter, Problem, RecordRef, VersionIssue
from schemas.post import PostRecord, Tombstone, content_hash

REPO = Path(__file__).resolve().parents[2]
FILE_RE = re.compile(r"records/(?P<writer>[^/]+)/\d{8}T\d{6}Z-\d+(-\d+)?\.jsonl(\.gz)?")


def make_record(n: int = 1, **fields: Any) -> dict[str, Any]:
    """A valid PostRecord as JSON-ready dict; word_count and content_hash follow `text`."""
    site = fields.pop("site", "https://blog.example/")
    text = fields.pop("text", f"Post number {n} has a body.\n\nIt has two paragraphs.")
    url = fields.pop("canonical_url", f"{site}post-{n}/")
    record: dict[str, Any] = {
        "url": url,
        "canonical_url": url,
        "site": site,
        "kind": "post",
        "title": f"Post {n}",
        "published": "2024-01-02T03:04:05+00:00",
        "language": "en",
        "text": text,
        "markdown": text,
        "word_count": len(text.split()),
        "content_hash": content_hash(text),
        "fetched_at": "2025-01-01T00:00:00+00:00",
        "status": 200,
        "extractor": {"name": "test", "version": "1"},
    }
    record.update(fields)
    return record


def make_post(n: int = 1, **fields: Any) -> PostRecord:
    """A valid PostRecord."""
    return PostRecord.model_validate(make_record(n, **fields))


def files_of(directory: Path) -> list[str]:
    return [p.relative_to(directory).as_posix() for p in store.archive_files(directory)]


def write_lines(directory: Path, name: str, lines: list[bytes]) -> str:
    """Put raw bytes into an archive file; return its relative path."""
    rel = f"records/hand/{name}"
    path = directory / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(lines))
    return rel


def line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


# --------------------------------------------------------------------------------------------
# Writer and reader
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_roundtrip(tmp_path: Path, compress: bool) -> None:
    posts = [make_post(i) for i in range(1, 6)]
    with ArchiveWriter(tmp_path, "w1", compress=compress, fsync_every=2) as writer:
        refs = [writer.write(p) for p in posts[:4]]
        refs.append(writer.write(make_record(5)))  # a dict is accepted too
    files = files_of(tmp_path)
    assert len(files) == 1
    assert FILE_RE.fullmatch(files[0]), files[0]
    assert files[0].endswith(".jsonl.gz" if compress else ".jsonl")
    assert refs == [RecordRef(files[0], i) for i in range(1, 6)]
    assert list(store.iter_records(tmp_path)) == posts
    assert list(store.iter_problems(tmp_path)) == []
    raw = (tmp_path / files[0]).read_bytes()
    if compress:
        assert raw.count(b"\x1f\x8b\x08") == 3  # batches of 2, 2 and 1: one gzip member each
        raw = gzip.decompress(raw)
    lines = raw.decode("utf-8").splitlines()
    assert [PostRecord.model_validate_json(x) for x in lines] == posts


def test_iter_records_without_validation_yields_dicts(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path) as writer:
        writer.write(make_post(1))
    (got,) = store.iter_records(tmp_path, validate=False)
    assert isinstance(got, dict)
    assert got["canonical_url"] == "https://blog.example/post-1/"


def test_no_file_until_first_write(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path, "idle") as writer:
        assert writer.path is None
    assert (tmp_path / "records" / "idle").is_dir()
    assert files_of(tmp_path) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"word_count": 99},
        {"content_hash": "sha256:0"},
        {"canonical_url": "/relative/"},
        {"title": ["not", "a", "string"]},
        {"unknown_field": 1},
    ],
)
def test_writer_refuses_invalid_record(tmp_path: Path, bad: dict[str, Any]) -> None:
    with ArchiveWriter(tmp_path) as writer:
        writer.write(make_post(1))
        with pytest.raises(ValidationError):
            writer.write(make_record(2, **bad))
        writer.write(make_post(3))
    assert [r.title for r in store.iter_records(tmp_path)] == ["Post 1", "Post 3"]
    assert len(store.archive_files(tmp_path)[0].read_bytes().splitlines()) == 2


def test_writer_revalidates_changed_record(tmp_path: Path) -> None:
    post = make_post(1)
    post.text = "changed after validation"  # content_hash and word_count are stale now
    with ArchiveWriter(tmp_path) as writer, pytest.raises(ValidationError):
        writer.write(post)
    assert not any(p.stat().st_size for p in store.archive_files(tmp_path))


def test_writer_id_is_checked(tmp_path: Path) -> None:
    for bad in ["", "../x", "a/b", ".hidden"]:
        with pytest.raises(ValueError):
            ArchiveWriter(tmp_path, bad)


def test_write_after_close_fails(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path)
    writer.close()
    writer.close()
    with pytest.raises(ValueError):
        writer.write(make_post())


def test_several_writers_one_archive(tmp_path: Path) -> None:
    # same process, same second: the names must not clash
    a = ArchiveWriter(tmp_path, "alpha")
    b = ArchiveWriter(tmp_path, "beta")
    c = ArchiveWriter(tmp_path, "alpha", compress=True)
    a.write(make_post(1, fetched_at="2025-01-01T00:00:00Z", title="old"))
    b.write(make_post(1, fetched_at="2025-02-01T00:00:00Z", title="new"))
    c.write(make_post(1, fetched_at="2025-01-15T00:00:00Z", title="middle"))
    b.write(make_post(2))
    c.write(make_post(3))
    for w in (a, b, c):
        w.close()
    files = files_of(tmp_path)
    assert len(files) == 3 and len(set(files)) == 3
    assert sorted(f.split("/")[1] for f in files) == ["alpha", "alpha", "beta"]
    assert len(list(store.iter_records(tmp_path))) == 5
    current = store.latest(tmp_path)
    assert sorted(current) == [f"https://blog.example/post-{i}/" for i in (1, 2, 3)]
    assert current["https://blog.example/post-1/"].title == "new"  # latest fetched_at wins
    assert sorted(r.canonical_url for r in store.iter_latest(tmp_path)) == sorted(current)
    refs = store.current_refs(tmp_path)
    assert refs["https://blog.example/post-1/"].file.startswith("records/beta/")


def test_latest_equal_fetched_at_last_written_wins(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path) as writer:
        writer.write(make_post(1, title="first"))
        writer.write(make_post(1, title="second"))
    with ArchiveWriter(tmp_path) as writer:  # a later run
        writer.write(make_post(1, title="third"))
    assert store.latest(tmp_path)["https://blog.example/post-1/"].title == "third"
    assert [r.title for r in store.iter_latest(tmp_path)] == ["third"]


def test_archive_order_follows_run_time_not_writer_name(tmp_path: Path) -> None:
    write_lines(tmp_path, "20250102T000000Z-1.jsonl", [line(make_record(2))])
    (tmp_path / "records" / "aaa").mkdir()
    (tmp_path / "records/aaa/20250101T000000Z-1-2.jsonl").write_bytes(line(make_record(1)))
    (tmp_path / "records/aaa/20250103T000000Z-1.jsonl").write_bytes(line(make_record(3)))
    (tmp_path / "records/aaa/20250101T000000Z-1.jsonl").write_bytes(line(make_record(0)))
    assert [r.title for r in store.iter_records(tmp_path)] == [
        "Post 0",
        "Post 1",
        "Post 2",
        "Post 3",
    ]


def test_fsync_on_batch_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd))[1])
    with ArchiveWriter(tmp_path, fsync_every=3, fsync_interval=None) as writer:
        writer.write(make_post(1))  # + one fsync of the directory for the new file
        calls.clear()
        for i in range(2, 8):
            writer.write(make_post(i))
        assert len(calls) == 2  # after records 3 and 6
    assert len(calls) == 3  # and at close
    calls.clear()
    with ArchiveWriter(tmp_path, fsync_every=1000, fsync_interval=0) as writer:
        writer.write(make_post(1))
        calls.clear()
        writer.write(make_post(2))
        writer.write(make_post(3))
        assert len(calls) == 2  # the interval has always passed


# --------------------------------------------------------------------------------------------
# Versions and tombstones
# --------------------------------------------------------------------------------------------

URL1 = "https://blog.example/post-1/"


def make_tombstone(n: int = 1, version: int = 2, **fields: Any) -> dict[str, Any]:
    """A valid Tombstone as JSON-ready dict."""
    url = f"https://blog.example/post-{n}/"
    record: dict[str, Any] = {
        "deleted": True,
        "url": url,
        "canonical_url": url,
        "site": "https://blog.example/",
        "kind": "post",
        "deleted_at": "2025-03-01T00:00:00+00:00",
        "status": 404,
        "version": version,
    }
    record.update(fields)
    return record


def version(n: int, v: int, text: str, previous: str | None = None, **fields: Any) -> PostRecord:
    """Post n's version v with body ``text``; previous_hash is the hash of ``previous``."""
    prev = content_hash(previous) if previous is not None else None
    return make_post(n, text=text, version=v, previous_hash=prev, **fields)


def test_writer_and_readers_take_tombstones(tmp_path: Path) -> None:
    post = make_post(1)
    tomb = Tombstone.model_validate(make_tombstone(1, previous_hash=post.content_hash))
    with ArchiveWriter(tmp_path) as writer:
        writer.write(post)
        writer.write(tomb)
        writer.write(make_tombstone(2))  # a dict is accepted too
        writer.write(make_post(3))
    got = list(store.iter_records(tmp_path))
    assert got == [post, tomb, Tombstone.model_validate(make_tombstone(2)), make_post(3)]
    assert [r.title for r in store.iter_posts(tmp_path)] == ["Post 1", "Post 3"]
    raw = [json.loads(x) for x in store.archive_files(tmp_path)[0].read_text().splitlines()]
    assert [r["deleted"] for r in raw] == [False, True, True, False]
    assert list(store.iter_problems(tmp_path)) == []


@pytest.mark.parametrize(
    "bad",
    [{"version": 1}, {"canonical_url": "/relative/"}, {"text": "a tombstone has no text"}],
)
def test_writer_refuses_invalid_tombstone(tmp_path: Path, bad: dict[str, Any]) -> None:
    with ArchiveWriter(tmp_path) as writer, pytest.raises(ValidationError):
        writer.write(make_tombstone(1, **bad))
    assert list(store.iter_records(tmp_path)) == []


def test_reading_old_lines_and_bad_tombstones(tmp_path: Path) -> None:
    old = make_record(1)  # written before `deleted` existed
    assert "deleted" not in old
    rel = write_lines(
        tmp_path,
        "20250101T000000Z-1.jsonl",
        [line(old), line(make_tombstone(2, version=0)), line({**old, "deleted": "maybe"})],
    )
    assert list(store.iter_records(tmp_path)) == [make_post(1)]
    p2, p3 = store.iter_problems(tmp_path)
    assert (p2.file, p2.line) == (rel, 2)
    assert p2.reason.startswith("invalid record: version: Input should be greater than")
    assert (p3.line, p3.reason.startswith("invalid record: Input tag 'maybe'")) == (3, True)


def test_current_is_the_highest_version(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path, "b") as writer:  # version 2 fetched "before" version 1
        writer.write(version(1, 2, "second text", "first text", fetched_at="2024-01-01T00:00:00Z"))
    with ArchiveWriter(tmp_path, "c") as writer:
        writer.write(version(1, 1, "first text", fetched_at="2025-06-01T00:00:00Z"))
    assert store.latest(tmp_path)[URL1].text == "second text"
    assert [r.text for r in store.iter_latest(tmp_path)] == ["second text"]
    assert store.current_refs(tmp_path)[URL1].file.startswith("records/b/")


def test_current_tie_break_time_then_archive_order(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path) as writer:
        writer.write(version(1, 2, "text", fetched_at="2025-02-01T00:00:00Z", title="later"))
        writer.write(version(1, 2, "text", fetched_at="2025-01-01T00:00:00Z", title="earlier"))
        writer.write(make_tombstone(2, deleted_at="2025-02-01T00:00:00Z", status=410))
        writer.write(make_tombstone(2, deleted_at="2025-01-01T00:00:00Z", status=404))
        writer.write(version(3, 1, "a", title="first written"))
        writer.write(version(3, 1, "a", title="last written"))
    current = store.latest(tmp_path, include_deleted=True)
    assert current[URL1].title == "later"  # type: ignore[union-attr]
    assert current["https://blog.example/post-2/"].status == 410
    assert current["https://blog.example/post-3/"].title == "last written"  # type: ignore[union-attr]


def test_tombstone_hides_a_post_until_it_comes_back(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path) as writer:
        writer.write(version(1, 1, "one"))
        writer.write(make_post(2))
        writer.write(make_tombstone(1, 2, previous_hash=content_hash("one")))
    assert sorted(store.latest(tmp_path)) == ["https://blog.example/post-2/"]
    assert [r.canonical_url for r in store.iter_latest(tmp_path)] == [
        "https://blog.example/post-2/"
    ]
    assert sorted(store.current_refs(tmp_path)) == ["https://blog.example/post-2/"]
    with_deleted = store.latest(tmp_path, include_deleted=True)
    assert isinstance(with_deleted[URL1], Tombstone)
    assert [r.deleted for r in store.iter_latest(tmp_path, include_deleted=True)] == [False, True]
    assert store.current_map(tmp_path, lambda _ref, r: r.title) == {
        "https://blog.example/post-2/": "Post 2"
    }
    with ArchiveWriter(tmp_path) as writer:  # it is back, changed
        writer.write(version(1, 3, "one again", "one"))
    assert store.latest(tmp_path)[URL1].text == "one again"


def test_history_is_in_version_order(tmp_path: Path) -> None:
    v1, v3 = version(1, 1, "one"), version(1, 3, "three", "one", url="https://blog.example/?p=1")
    tomb = make_tombstone(1, 2, previous_hash=v1.content_hash)
    # the file with version 3 comes first in archive order; version 1 is written twice
    write_lines(tmp_path, "20250101T000000Z-1.jsonl", [line(v3.model_dump(mode="json"))])
    write_lines(
        tmp_path,
        "20250102T000000Z-1.jsonl",
        [line(v1.model_dump(mode="json")), line(tomb), line(make_record(2))],
    )
    write_lines(tmp_path, "20250103T000000Z-1.jsonl", [line(v1.model_dump(mode="json"))])
    got = store.history(tmp_path, URL1.rstrip("/"))
    assert [(ref.file[-24:-6], ref.line, r.version) for ref, r in got] == [
        ("20250103T000000Z-1", 1, 1),  # the later copy of version 1
        ("20250102T000000Z-1", 2, 2),
        ("20250101T000000Z-1", 1, 3),
    ]
    assert [r for _ref, r in store.history(tmp_path, "https://blog.example/?p=1")] == [
        r for _ref, r in got
    ]
    assert store.history(tmp_path, "https://blog.example/nothing/") == []


def test_version_checker(tmp_path: Path) -> None:
    checker = store.VersionChecker()
    r = [RecordRef("f", n) for n in range(10)]
    checker.add(r[1], version(1, 1, "one"))
    checker.add(r[2], version(1, 2, "two", "one"))
    checker.add(r[3], version(1, 2, "two", "one"))  # identical: a note
    checker.add(r[4], version(1, 2, "TWO", "one"))  # different content: an error
    checker.add(r[5], Tombstone.model_validate(make_tombstone(1, 3)))  # no previous_hash: fine
    checker.add(r[6], version(1, 4, "four", "two"))  # after a tombstone: any earlier hash
    checker.add(r[7], version(2, 2, "x", "y"))  # no version 1: a gap
    checker.add(r[8], version(1, 5, "five", "three"))  # not the hash of version 4: a gap
    checker.add(r[9], Tombstone.model_validate(make_tombstone(1, 5)))  # post vs tombstone
    issues = checker.issues()
    assert [(i.ref.line, i.level) for i in issues] == [
        (3, "note"),
        (4, "error"),
        (7, "warning"),
        (8, "warning"),
        (9, "error"),
    ]
    assert str(issues[1]) == (
        f"f:4: conflicting records for version 2 of {URL1}: this and f:2 (different content_hash)"
    )
    assert str(issues[0]).startswith(f"f:3: note: identical copy of version 2 of {URL1} at f:2")
    assert "a post and a tombstone" in issues[4].message
    assert issues[2] == VersionIssue(
        r[7],
        "warning",
        "version 2 of https://blog.example/post-2/ follows no version 1 (gap in the chain)",
    )


def test_version_checker_accepts_a_post_back_after_its_tombstone() -> None:
    checker = store.VersionChecker()
    checker.add(RecordRef("f", 1), version(1, 1, "one"))
    tomb = make_tombstone(1, 2, previous_hash=content_hash("one"))
    checker.add(RecordRef("f", 2), Tombstone.model_validate(tomb))
    checker.add(RecordRef("f", 3), version(1, 3, "one", "one"))
    assert checker.issues() == []


def test_check_warc_ref(tmp_path: Path) -> None:
    warc = pytest.importorskip("archive.warc")
    moment = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    with warc.WarcWriter(tmp_path, "w") as writer:
        first = writer.write_response("https://blog.example/a/", 200, [], b"<p>a</p>", moment)
        second = writer.write_response("https://blog.example/b/", 200, [], b"<p>b</p>", moment)
    size = (tmp_path / first.file).stat().st_size

    def check(**changes: Any) -> str:
        return store.check_warc_ref(tmp_path, first.model_copy(update=changes)) or ""

    assert store.check_warc_ref(tmp_path, first) is None
    assert store.check_warc_ref(tmp_path, second) is None
    assert check(offset=size).endswith(f"is beyond the end of {first.file} ({size} bytes)")
    assert "beyond the end" in check(offset=second.offset, length=size)
    assert check(file="warc/w/other.warc.gz") == "warc file warc/w/other.warc.gz does not exist"
    assert check(file="warc/../x.warc.gz") == "warc file warc/../x.warc.gz is not under warc/"
    assert check(file="records/x.warc.gz").endswith("is not under warc/")
    assert check(file="warc/w") == "warc file warc/w is not a file"
    assert check(record_id=second.record_id).startswith("bad warc record: ")  # wrong record
    assert check(offset=first.offset + 1).startswith("bad warc record: ")  # not a member start


# --------------------------------------------------------------------------------------------
# Damaged files
# --------------------------------------------------------------------------------------------


def test_reader_skips_bad_lines_with_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    half = line(make_record(9))[:40]
    rel = write_lines(
        tmp_path,
        "20250101T000000Z-1.jsonl",
        [
            line(make_record(1)),
            b"this is not json\n",
            line(make_record(3, word_count=1)),  # fails validation
            b"[1, 2]\n",
            b"\n",
            line(make_record(6)),
            half,  # kill -9 / power loss in the middle of a line
        ],
    )
    with caplog.at_level(logging.WARNING, logger="archive.store"):
        got = [r.title for r in store.iter_records(tmp_path)]
    assert got == ["Post 1", "Post 6"]
    warned = [r.getMessage() for r in caplog.records]
    for n in (2, 3, 4, 5, 7):
        assert any(m.startswith(f"{rel}:{n}: ") for m in warned), (n, warned)
    problems = list(store.iter_problems(tmp_path))
    assert [(p.file, p.line) for p in problems] == [(rel, n) for n in (2, 3, 4, 5, 7)]
    reasons = dict((p.line, p.reason) for p in problems)
    assert reasons[2].startswith("not JSON")
    assert "word_count" in reasons[3]
    assert reasons[7] == store.INCOMPLETE_LINE
    assert [p.interrupted for p in problems] == [False, False, False, False, True]


def test_reader_reads_last_line_without_newline_if_complete(tmp_path: Path) -> None:
    write_lines(tmp_path, "20250101T000000Z-1.jsonl", [line(make_record(1)).rstrip(b"\n")])
    assert [r.title for r in store.iter_records(tmp_path)] == ["Post 1"]
    assert list(store.iter_problems(tmp_path)) == []


def test_truncated_gzip_member(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with ArchiveWriter(tmp_path, compress=True, fsync_every=2) as writer:
        for i in range(1, 7):
            writer.write(make_post(i, text=" ".join(f"word{i}x{j}" for j in range(200))))
    (path,) = store.archive_files(tmp_path)
    data = path.read_bytes()
    last_member = data.rindex(b"\x1f\x8b\x08")
    path.write_bytes(data[: last_member + (len(data) - last_member) // 2])
    with caplog.at_level(logging.WARNING, logger="archive.store"):
        got = [r.title for r in store.iter_records(tmp_path)]
    assert got[:4] == ["Post 1", "Post 2", "Post 3", "Post 4"]
    assert set(got) <= {f"Post {i}" for i in range(1, 7)} and len(got) < 6
    problems = list(store.iter_problems(tmp_path))
    assert problems and problems[-1].reason == store.TRUNCATED_MEMBER
    rel = path.relative_to(tmp_path).as_posix()
    assert all(p.file == rel and p.line >= 5 and p.interrupted for p in problems)
    assert any("truncated gzip member" in r.getMessage() for r in caplog.records)


def test_corrupt_gzip_data(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path, compress=True, fsync_every=1) as writer:
        writer.write(make_post(1))
    (path,) = store.archive_files(tmp_path)
    with open(path, "ab") as fh:
        fh.write(b"garbage that is not gzip")
    assert [r.title for r in store.iter_records(tmp_path)] == ["Post 1"]
    (problem,) = store.iter_problems(tmp_path)
    assert problem.line == 2 and problem.reason.startswith("corrupt gzip data")
    assert not problem.interrupted


def test_stray_files_are_reported(tmp_path: Path) -> None:
    with ArchiveWriter(tmp_path) as writer:
        writer.write(make_post(1))
    (tmp_path / "records" / "main" / "notes.txt").write_text("hello")
    (tmp_path / "records" / "loose.jsonl").write_bytes(line(make_record(2)))
    store.write_json(tmp_path / "state.json", {"ok": True})  # sidecars beside records/ are fine
    assert [r.title for r in store.iter_records(tmp_path)] == ["Post 1"]
    assert list(store.iter_problems(tmp_path)) == [
        Problem("records/loose.jsonl", 0, "not an archive file; ignored"),
        Problem("records/main/notes.txt", 0, "not an archive file; ignored"),
    ]


# --------------------------------------------------------------------------------------------
# Write errors
# --------------------------------------------------------------------------------------------


def test_permission_denied_on_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def deny(path: Any, flags: int, *args: Any) -> int:
        if str(path).endswith(".jsonl"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    writer = ArchiveWriter(tmp_path, "w")
    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(ArchiveWriteError) as info:
        writer.write(make_post())
    assert info.value.path.startswith(str(tmp_path / "records" / "w"))
    assert info.value.path.endswith(".jsonl")
    assert info.value.reason == "Permission denied"
    assert info.value.path in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_permission_denied_on_directory(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ArchiveWriteError) as info:
            ArchiveWriter(tmp_path)
        assert str(tmp_path) in info.value.path
    finally:
        tmp_path.chmod(0o700)


def test_cannot_create_writer_directory(tmp_path: Path) -> None:
    (tmp_path / "records").write_text("a file where the directory should be")
    with pytest.raises(ArchiveWriteError) as info:
        ArchiveWriter(tmp_path, "w")
    assert info.value.path.startswith(str(tmp_path / "records"))


@pytest.mark.parametrize("compress", [False, True])
def test_disk_full_leaves_no_partial_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compress: bool
) -> None:
    writer = ArchiveWriter(tmp_path, compress=compress, fsync_every=1)
    writer.write(make_post(1))
    real_write = os.write

    def full(fd: int, data: Any) -> int:  # writes a part, then the disk is full
        if len(data) > 10:
            return real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(ArchiveWriteError) as info:
        writer.write(make_post(2))
    assert info.value.path == str(writer.path)
    assert info.value.reason == "No space left on device"
    monkeypatch.undo()
    assert list(store.iter_problems(tmp_path)) == []  # the partial line was truncated away
    writer.write(make_post(3))  # space freed: go on
    writer.close()
    titles = [r.title for r in store.iter_records(tmp_path)]
    assert titles == (["Post 1", "Post 2", "Post 3"] if compress else ["Post 1", "Post 3"])


def test_write_json_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    store.write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}

    def fail(*_args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ArchiveWriteError):
        store.write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


# --------------------------------------------------------------------------------------------
# kill -9
# --------------------------------------------------------------------------------------------

CHILD = """
import json, sys
from archive.store import ArchiveWriter
directory, compress, base = sys.argv[1], sys.argv[2] == "1", json.loads(sys.argv[3])
writer = ArchiveWriter(directory, "killed", compress=compress, fsync_every=5, fsync_interval=None)
i = 0
while True:
    done = []
    for _ in range(5):
        i += 1
        url = f"https://blog.example/kill-{i}/"
        ref = writer.write(dict(base, url=url, canonical_url=url))
        done.append(f"{ref.file} {ref.line} {url}")
    # the 5th write flushed the batch (fsync_every=5): report the batch as written
    print("\\n".join(done), flush=True)
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("compress", [False, True])
def test_kill_9_mid_write(tmp_path: Path, compress: bool) -> None:
    base = make_record(0, text=" ".join(f"w{j}" for j in range(1500)))  # lines > 4 KiB
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), "1" if compress else "0", json.dumps(base)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    reported: list[tuple[str, int, str]] = []
    while len(reported) < 300:
        out = proc.stdout.readline()
        assert out, f"writer died early: {proc.wait()}"
        file, lineno, url = out.split()
        reported.append((file, int(lineno), url))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    found = {(ref.file, ref.line, rec.canonical_url) for ref, rec in store.iter_with_refs(tmp_path)}
    missing = [r for r in reported if r not in found]
    assert not missing, missing[:5]
    assert len(found) >= len(reported)
    # A write cut short by the kill can only leave an interrupted tail after the reported lines
    last_reported = max(line for _file, line, _url in reported)
    for problem in store.iter_problems(tmp_path):
        assert problem.interrupted and problem.line > last_reported, problem
    assert main(["verify", str(tmp_path)]) == 0

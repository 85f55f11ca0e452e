"""The blogarchive command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from archive import cli, store
from archive.store import ArchiveWriter
from schemas.post import PostRecord, Tombstone, content_hash

REPO = Path(__file__).resolve().parents[2]
A = "https://a.example/"
B = "https://b.example/blog/"
OLD_TEXT = "Body of post 1.\n\nSecond paragraph here."
NEW_TEXT = "Body of post 1, revised.\n\nSecond paragraph here."


def make_record(n: int = 1, **fields: Any) -> dict[str, Any]:
    """A valid PostRecord as JSON-ready dict; word_count and content_hash follow `text`."""
    site = fields.pop("site", A)
    text = fields.pop("text", f"Body of post {n}.\n\nSecond paragraph here.")
    url = fields.pop("canonical_url", f"{site}p{n}/")
    record: dict[str, Any] = {
        "url": url,
        "canonical_url": url,
        "site": site,
        "kind": "post",
        "title": f"Post {n}",
        "authors": ["Ann"],
        "published": "2024-01-02T03:04:05+00:00",
        "language": "en",
        "text": text,
        "markdown": f"## Heading {n}\n\n{text}",
        "word_count": len(text.split()),
        "content_hash": content_hash(text),
        "fetched_at": "2025-01-01T00:00:00+00:00",
        "status": 200,
        "extractor": {"name": "test", "version": "1"},
        "comments": [{"id": "1", "text": "Nice", "published": "2024-01-03T00:00:00Z"}],
        "sources": {"title": "og"},
    }
    record.update(fields)
    return record


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """Two sites, two writers, version 1 and version 2 of A's post 1."""
    directory = tmp_path / "arch"
    with ArchiveWriter(directory, "one") as w:
        w.write(make_record(1, title="Old title", fetched_at="2024-12-01T00:00:00Z", text=OLD_TEXT))
        w.write(make_record(2, published="2023-05-06T00:00:00Z"))
        w.write(make_record(3, kind="page", published=None, text="About me"))
    with ArchiveWriter(directory, "two", compress=True) as w:
        w.write(
            make_record(
                1,
                title="New title",
                fetched_at="2025-02-01T00:00:00Z",
                text=NEW_TEXT,
                version=2,
                previous_hash=content_hash(OLD_TEXT),
            )
        )
        w.write(make_record(4, site=B, language="de", published="2024-06-01T12:00:00Z"))
        w.write(
            make_record(
                5,
                site=B,
                language="fr",
                published="2024-07-01T00:00:00Z",
                fetched_at="2025-03-04T05:06:07Z",
            )
        )
    return directory


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


def exit_code(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """For errors argparse handles itself: the SystemExit code and stderr."""
    with pytest.raises(SystemExit) as info:
        cli.main([*argv])
    return int(info.value.code or 0), capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# help and registry
# --------------------------------------------------------------------------------------------


def test_help_of_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    names = [name for name, _add, _run in cli.COMMANDS]
    assert {"verify", "stats", "export", "show"} <= set(names)
    code, _ = exit_code(capsys, "--help")
    assert code == 0
    for name in names:
        with pytest.raises(SystemExit) as info:
            cli.main([name, "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: blogarchive {name}")


def test_registered_commands_are_dispatched(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def add(parser: Any) -> None:
        parser.add_argument("thing")

    def run_extract(args: Any) -> int:
        """Extract things."""
        seen.append(args.thing)
        return 7

    monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, ("frobnicate", add, run_extract)])
    assert cli.main(["frobnicate", "x"]) == 7
    assert seen == ["x"]
    assert "Extract things." in cli.build_parser().format_help()


def test_no_subcommand_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = exit_code(capsys)
    assert code == 2 and "required" in err


def test_not_an_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("verify", "stats", "export"):
        code, err = exit_code(capsys, name, str(tmp_path / "missing"))
        assert code == 2 and "no such directory" in err
    code, err = exit_code(capsys, "stats", str(tmp_path))
    assert code == 2 and "not an archive" in err


def test_progress_only_on_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with cli._progress("x", 3) as on_file:
        assert on_file is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with cli._progress("x", 3) as on_file:
        assert callable(on_file)
        on_file(Path("f"))


# --------------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------------


def test_verify_ok(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", str(archive))
    assert code == 0
    assert out == "OK: 6 records of 5 posts and pages in 2 files from 2 writers\n"


def damage(archive: Path) -> tuple[str, str]:
    """Add garbage, an invalid record and a half line to one file, truncate the gzip one."""
    plain, gz = store.archive_files(archive)
    with open(plain, "ab") as fh:
        fh.write(b"{not json\n")
        fh.write(orjson.dumps(make_record(9, word_count=0)) + b"\n")
        fh.write(orjson.dumps(make_record(10))[:50])
    data = gz.read_bytes()
    gz.write_bytes(data[:-5])
    return plain.relative_to(archive).as_posix(), gz.relative_to(archive).as_posix()


def test_verify_lists_problems(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain, gz = damage(archive)
    code, out, _ = run(capsys, "verify", str(archive))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{plain}:4: not JSON")
    assert lines[1].startswith(f"{plain}:5: invalid record: ")
    assert "word_count does not match text" in lines[1]
    assert lines[2] == f"{plain}:6: {store.INCOMPLETE_LINE}"
    assert lines[3].startswith(f"{gz}:") and lines[3].endswith(store.TRUNCATED_MEMBER)
    assert lines[4] == "FAILED: 2 problems in 1 of 2 files from 2 writers; 6 good records"
    assert len(lines) == 5


def test_verify_accepts_interrupted_writes_unless_strict(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain, gz = store.archive_files(archive)
    with open(plain, "ab") as fh:
        fh.write(orjson.dumps(make_record(10))[:50])  # what kill -9 mid-write can leave
    code, out, _ = run(capsys, "verify", str(archive))
    rel = plain.relative_to(archive).as_posix()
    assert code == 0
    assert out.splitlines() == [
        f"{rel}:4: {store.INCOMPLETE_LINE}",
        "OK: 6 records of 5 posts and pages in 2 files from 2 writers;"
        " 1 interrupted writes skipped",
    ]
    code, out, _ = run(capsys, "verify", "--strict", str(archive))
    assert code == 1 and out.splitlines()[-1].startswith("FAILED: 1 problems")


# --------------------------------------------------------------------------------------------
# stats
# --------------------------------------------------------------------------------------------


def test_stats_json(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--json", str(archive))
    assert code == 0
    stats = json.loads(out)
    words = len(make_record(2)["text"].split())
    assert stats["sites"][A] == {
        "posts": 2,  # post 1 counted once
        "pages": 1,
        "versions": 1,  # post 1's version 2
        "tombstones": 0,
        "words": len(NEW_TEXT.split()) + words + 2,
        "first_published": "2023-05-06T00:00:00+00:00",
        "last_published": "2024-01-02T03:04:05+00:00",
        "languages": {"en": 3},
        "last_fetched_at": "2025-02-01T00:00:00+00:00",
    }
    assert stats["sites"][B]["languages"] == {"de": 1, "fr": 1}
    assert stats["sites"][B]["last_fetched_at"] == "2025-03-04T05:06:07+00:00"
    total = stats["total"]
    assert (total["posts"], total["pages"], total["words"]) == (4, 1, 3 * words + 8 + 2)
    assert (total["versions"], total["tombstones"]) == (1, 0)
    assert total["first_published"] == "2023-05-06T00:00:00+00:00"
    assert total["last_published"] == "2024-07-01T00:00:00+00:00"
    assert total["languages"] == {"en": 3, "de": 1, "fr": 1}


def test_stats_table(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", str(archive))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "site",
        "posts",
        "pages",
        "versions",
        "deleted",
        "words",
        "published",
        "languages",
        "last",
        "fetched",
    ]
    assert lines[1].split()[:5] == [A, "2", "1", "1", "0"]
    assert "2023-05-06..2024-01-02" in lines[1] and "en:3" in lines[1]
    assert lines[2].split()[0] == B and "de:1 fr:1" in lines[2]
    assert lines[3].split()[:5] == ["total", "4", "1", "1", "0"]


# --------------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------------


def exported(capsys: pytest.CaptureFixture[str], archive: Path, *options: str) -> list[PostRecord]:
    code, out, _ = run(capsys, "export", str(archive), *options)
    assert code == 0
    return [PostRecord.model_validate_json(x) for x in out.splitlines()]


def test_export_jsonl_latest_only(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = exported(capsys, archive)
    assert sorted(r.title for r in records) == ["New title", "Post 2", "Post 3", "Post 4", "Post 5"]
    assert len({r.canonical_url for r in records}) == 5


@pytest.mark.parametrize(
    ("options", "titles"),
    [
        (["--site", A], ["New title", "Post 2", "Post 3"]),
        (["--site", "b.example"], ["Post 4", "Post 5"]),
        (["--site", B.rstrip("/")], ["Post 4", "Post 5"]),
        (["--language", "DE"], ["Post 4"]),
        (["--since", "2024-06-01"], ["Post 4", "Post 5"]),
        (["--until", "2024-06-01"], ["New title", "Post 2", "Post 4"]),
        (["--until", "2024-06-01T11:00:00"], ["New title", "Post 2"]),
        (["--since", "2024-01-01", "--until", "2024-06-30", "--site", A], ["New title"]),
    ],
)
def test_export_filters(
    archive: Path, capsys: pytest.CaptureFixture[str], options: list[str], titles: list[str]
) -> None:
    assert sorted(r.title for r in exported(capsys, archive, *options)) == titles


def test_export_bad_date(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = exit_code(capsys, "export", str(archive), "--since", "yesterday")
    assert code == 2 and "not an ISO date" in err


def test_export_text_and_markdown(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "export", str(archive), "--format", "text", "--site", B)
    assert code == 0
    first, second = out.split("\n" + "=" * 72 + "\n\n")
    assert first.startswith(f"Post 4\n{B}p4/ | 2024-06-01 | Ann\n\nBody of post 4.")
    assert second.startswith("Post 5\n")
    code, out, _ = run(capsys, "export", str(archive), "--format", "markdown", "--site", B)
    assert code == 0
    assert out.startswith(f"# Post 4\n\n<{B}p4/> · 2024-06-01 · Ann\n\n## Heading 4\n")
    assert "\n---\n\n# Post 5\n" in out


def test_export_to_file(archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.jsonl"
    code, out, err = run(capsys, "export", str(archive), "-o", str(target))
    assert code == 0 and out == ""
    assert "exported 5 records" in err
    assert len(target.read_text(encoding="utf-8").splitlines()) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arch", "out.jsonl"]  # no temp file


def test_export_parquet(archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    target = tmp_path / "out.parquet"
    code, _, _ = run(capsys, "export", str(archive), "--format", "parquet", "-o", str(target))
    assert code == 0
    table = pq.read_table(target)
    assert table.num_rows == 5
    rows = {r["canonical_url"]: r for r in table.to_pylist()}
    post1 = rows[f"{A}p1/"]
    assert post1["title"] == "New title"
    assert post1["published"].isoformat() == "2024-01-02T03:04:05+00:00"
    assert post1["comments"][0]["text"] == "Nice"
    assert post1["extractor"] == {"name": "test", "version": "1"}
    assert post1["sources"] == [("title", "og")]
    assert rows[f"{A}p3/"]["published"] is None


def test_export_parquet_errors(
    archive: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, err = exit_code(capsys, "export", str(archive), "--format", "parquet")
    assert code == 2 and "-o FILE" in err
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    target = tmp_path / "out.parquet"
    code, err = exit_code(capsys, "export", str(archive), "--format", "parquet", "-o", str(target))
    assert code == 2 and "needs pyarrow" in err
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arch"]


def test_export_skips_bad_lines_with_warning(
    archive: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    plain, _gz = damage(archive)
    records = exported(capsys, archive)
    assert sorted(r.title for r in records) == ["New title", "Post 2", "Post 3", "Post 4", "Post 5"]
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith(f"{plain}:4: not JSON") for m in messages)


# --------------------------------------------------------------------------------------------
# show
# --------------------------------------------------------------------------------------------


def test_show(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", str(archive), f"{A}p1/")
    assert code == 0
    versions = json.loads(out)
    assert [v["title"] for v in versions] == ["Old title", "New title"]
    PostRecord.model_validate(versions[0])
    code, out, _ = run(capsys, "show", str(archive), "--latest", f"{A}p1")  # no trailing slash
    assert code == 0
    assert json.loads(out)["title"] == "New title"
    code, out, err = run(capsys, "show", str(archive), f"{A}nope/")
    assert code == 1 and out == "" and "no record" in err


# --------------------------------------------------------------------------------------------
# Versions and tombstones
# --------------------------------------------------------------------------------------------

P2_TEXT = make_record(2)["text"]
P3_TEXT = "Ein Beitrag auf Deutsch.\n\nMit zwei Absätzen."


def make_tombstone(n: int, version: int = 2, **fields: Any) -> dict[str, Any]:
    """A valid Tombstone as JSON-ready dict for A's post n."""
    url = f"{A}p{n}/"
    record: dict[str, Any] = {
        "deleted": True,
        "url": url,
        "canonical_url": url,
        "site": A,
        "kind": "post",
        "deleted_at": "2025-02-01T00:00:00Z",
        "status": 410,
        "version": version,
    }
    record.update(fields)
    return record


@pytest.fixture
def versions(tmp_path: Path) -> Path:
    """Site A over three crawls: p1 changes (v2, then written again on resume); p2 is
    deleted (tombstone v2); p3 is deleted and comes back (v3). Site B: p4."""
    directory = tmp_path / "arch"
    p1_v2 = make_record(
        1,
        title="New title",
        text=NEW_TEXT,
        version=2,
        previous_hash=content_hash(OLD_TEXT),
        fetched_at="2025-02-01T00:00:00Z",
    )
    with ArchiveWriter(directory, "w1") as w:
        w.write(
            make_record(
                1,
                url=f"{A}?p=1",
                title="Old title",
                text=OLD_TEXT,
                fetched_at="2024-12-01T00:00:00Z",
            )
        )
        w.write(make_record(2, published="2023-05-06T00:00:00Z", fetched_at="2024-12-01T00:00:00Z"))
        w.write(
            make_record(
                3,
                text=P3_TEXT,
                language="de",
                published="2024-03-03T00:00:00Z",
                fetched_at="2024-12-01T00:00:00Z",
            )
        )
        w.write(make_record(4, site=B, fetched_at="2024-12-01T00:00:00Z"))
    with ArchiveWriter(directory, "w2") as w:
        w.write(p1_v2)
        w.write(make_tombstone(2, previous_hash=content_hash(P2_TEXT)))
        w.write(make_tombstone(3, status=404, previous_hash=content_hash(P3_TEXT)))
    with ArchiveWriter(directory, "w3") as w:
        w.write(p1_v2)  # the crawl was killed after this write and resumed: written again
        w.write(
            make_record(
                3,
                text=P3_TEXT,
                language="de",
                published="2024-03-03T00:00:00Z",
                fetched_at="2025-03-01T00:00:00Z",
                version=3,
                previous_hash=content_hash(P3_TEXT),
            )
        )
    return directory


def ref_of(directory: Path, writer: str, line: int) -> str:
    (path,) = [p for p in store.archive_files(directory) if p.parent.name == writer]
    return f"{path.relative_to(directory).as_posix()}:{line}"


def add_records(directory: Path, writer: str, *records: dict[str, Any]) -> None:
    with ArchiveWriter(directory, writer) as w:
        for record in records:
            w.write(record)


def test_verify_versions_ok_with_note_for_identical_copy(
    versions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "verify", str(versions))
    assert code == 0, out
    first, copy = ref_of(versions, "w2", 1), ref_of(versions, "w3", 1)
    assert out.splitlines() == [
        f"{copy}: note: identical copy of version 2 of {A}p1/ at {first} (written twice);"
        " counted once",
        "OK: 9 records of 4 posts and pages in 3 files from 3 writers;"
        " 1 identical copies counted once",
    ]


def test_verify_conflicting_current_versions_fail(
    versions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = make_record(
        1, text="A different second version.", version=2, previous_hash=content_hash(OLD_TEXT)
    )
    add_records(versions, "w4", other, make_record(2, version=2, text="Back, but p2 is gone."))
    code, out, _ = run(capsys, "verify", str(versions))
    assert code == 1
    lines = out.splitlines()
    p1_first, p2_tomb = ref_of(versions, "w2", 1), ref_of(versions, "w2", 2)
    conflicts = [line for line in lines if "conflicting records" in line]
    assert conflicts == [
        f"{ref_of(versions, 'w4', 1)}: conflicting records for version 2 of {A}p1/: this and"
        f" {p1_first} (different content_hash)",
        f"{ref_of(versions, 'w4', 2)}: conflicting records for version 2 of {A}p2/: this and"
        f" {p2_tomb} (a post and a tombstone)",
    ]
    assert lines[-1] == "FAILED: 2 problems in 1 of 4 files from 4 writers; 11 good records"


def test_verify_chain_gap_is_a_warning(versions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_records(
        versions,
        "w4",
        make_record(4, site=B, version=3, previous_hash="sha256:00"),  # no version 2 of p4
        make_record(1, version=3, previous_hash="sha256:00", text="Third text."),  # wrong hash
    )
    code, out, _ = run(capsys, "verify", str(versions))
    assert code == 0, out
    warnings = [line for line in out.splitlines() if ": warning: " in line]
    assert warnings == [
        f"{ref_of(versions, 'w4', 1)}: warning: version 3 of {B}p4/ follows no version 2"
        " (gap in the chain)",
        f"{ref_of(versions, 'w4', 2)}: warning: version 3 of {A}p1/: previous_hash sha256:00"
        " is not the content_hash of any version 2 (gap in the chain)",
    ]
    assert out.splitlines()[-1].endswith("; 1 identical copies counted once; 2 warnings")


def test_verify_warc_refs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = pytest.importorskip("archive.warc")
    directory = tmp_path / "arch"
    moment = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    with warc.WarcWriter(directory, "w1") as writer:
        good = writer.write_response(f"{A}p1/", 200, [], b"<p>1</p>", moment)
        other = writer.write_response(f"{A}p2/", 200, [], b"<p>2</p>", moment)
    size = (directory / good.file).stat().st_size

    def ref(**changes: Any) -> dict[str, Any]:
        return good.model_copy(update=changes).model_dump()

    add_records(
        directory,
        "w1",
        make_record(1, warc=ref()),
        make_record(2, warc=ref(offset=size)),
        make_record(3),
        make_tombstone(3, warc=ref(file="warc/missing.warc.gz")),
        make_record(5, warc=ref(file="records/w1/x.warc.gz")),
        make_record(6, warc=ref(record_id=other.record_id)),
    )
    code, out, _ = run(capsys, "verify", str(directory))
    assert code == 1
    lines = out.splitlines()
    assert lines[:3] == [
        f"{ref_of(directory, 'w1', 2)}: warc record at offset {size} (+{good.length} bytes)"
        f" is beyond the end of {good.file} ({size} bytes)",
        f"{ref_of(directory, 'w1', 4)}: warc file warc/missing.warc.gz does not exist",
        f"{ref_of(directory, 'w1', 5)}: warc file records/w1/x.warc.gz is not under warc/",
    ]
    assert lines[3].startswith(f"{ref_of(directory, 'w1', 6)}: bad warc record: ")
    assert other.record_id in lines[3]
    assert lines[4:] == ["FAILED: 4 problems in 1 of 1 files from 1 writers; 6 good records"]
    (path,) = store.archive_files(directory)
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:1]))  # only line 1
    add_records(directory, "w2", make_record(2, warc=other.model_dump()))
    code, out, _ = run(capsys, "verify", str(directory))
    assert (code, out) == (0, "OK: 2 records of 2 posts and pages in 2 files from 2 writers\n")


def test_stats_versions_and_tombstones(versions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "stats", "--json", str(versions))
    assert code == 0
    stats = json.loads(out)
    assert stats["sites"][A] == {
        "posts": 2,  # p1 and p3; p2 is deleted
        "pages": 0,
        "versions": 2,  # p1's version 2 (counted once), p3's version 3
        "tombstones": 1,  # p2
        "words": len(NEW_TEXT.split()) + len(P3_TEXT.split()),
        "first_published": "2024-01-02T03:04:05+00:00",
        "last_published": "2024-03-03T00:00:00+00:00",
        "languages": {"en": 1, "de": 1},
        "last_fetched_at": "2025-03-01T00:00:00+00:00",
    }
    assert stats["sites"][B]["versions"] == 0
    total = stats["total"]
    assert (total["posts"], total["versions"], total["tombstones"]) == (3, 2, 1)
    code, out, _ = run(capsys, "stats", str(versions))
    assert out.splitlines()[1].split()[:6] == [A, "2", "0", "2", "1", str(total["words"] - 7)]


def export_records(
    capsys: pytest.CaptureFixture[str], archive: Path, *options: str
) -> list[PostRecord | Tombstone]:
    code, out, _ = run(capsys, "export", str(archive), *options)
    assert code == 0
    return [
        Tombstone.model_validate_json(x)
        if '"deleted":true' in x
        else PostRecord.model_validate_json(x)
        for x in out.splitlines()
    ]


def summary(records: list[PostRecord | Tombstone]) -> list[tuple[str, int, bool]]:
    return sorted((r.canonical_url.removeprefix(A), r.version, r.deleted) for r in records)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], [("p1/", 2, False), ("p3/", 3, False), (f"{B}p4/", 1, False)]),
        (
            ["--include-deleted"],
            [("p1/", 2, False), ("p2/", 2, True), ("p3/", 3, False), (f"{B}p4/", 1, False)],
        ),
        (["--site", A], [("p1/", 2, False), ("p3/", 3, False)]),
        (
            ["--site", A, "--include-deleted"],
            [("p1/", 2, False), ("p2/", 2, True), ("p3/", 3, False)],
        ),
        (["--include-deleted", "--until", "2023-12-31"], [("p2/", 2, True)]),  # p2's v1 date
        (
            ["--include-deleted", "--since", "2024-01-01", "--site", A],
            [("p1/", 2, False), ("p3/", 3, False)],
        ),
        (["--include-deleted", "--language", "de"], [("p3/", 3, False)]),
        (["--include-deleted", "--site", B], [(f"{B}p4/", 1, False)]),
    ],
)
def test_export_versions_and_tombstones(
    versions: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    expected: list[tuple[str, int, bool]],
) -> None:
    assert summary(export_records(capsys, versions, *options)) == sorted(expected)


def test_export_tombstone_as_text_and_markdown(
    versions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ["--include-deleted", "--until", "2023-12-31"]
    code, out, _ = run(capsys, "export", str(versions), "--format", "text", *options)
    assert (code, out) == (0, f"(deleted)\n{A}p2/ | deleted 2025-02-01 | HTTP 410\n")
    code, out, _ = run(capsys, "export", str(versions), "--format", "markdown", *options)
    assert (code, out) == (0, f"# (deleted)\n\n<{A}p2/> · deleted 2025-02-01 · HTTP 410\n")
    code, out, _ = run(capsys, "export", str(versions), "--format", "text", "--site", A)
    assert "(deleted)" not in out and "New title" in out


def from_parquet_row(row: dict[str, Any]) -> PostRecord | Tombstone:
    model = Tombstone if row["deleted"] else PostRecord
    data = {k: row[k] for k in model.model_fields}
    if "sources" in data:
        data["sources"] = dict(data["sources"])
    return model.model_validate(data)


def test_export_parquet_round_trip(
    versions: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    warc = {"file": "warc/a.warc.gz", "offset": 5, "length": 7, "record_id": "<urn:uuid:x>"}
    add_records(
        versions,
        "w4",
        make_record(5, site=B, warc=warc, updated="2024-02-02T00:00:00Z", tags=["t"]),
        make_tombstone(6, version=2, site=B, url=f"{B}p6/", canonical_url=f"{B}p6/", warc=warc),
    )
    target = tmp_path / "out.parquet"
    code, _, _ = run(
        capsys,
        "export",
        str(versions),
        "--format",
        "parquet",
        "--include-deleted",
        "-o",
        str(target),
    )
    assert code == 0
    rows = pq.read_table(target).to_pylist()
    got = {r.canonical_url: r for r in map(from_parquet_row, rows)}
    assert got == store.latest(versions, include_deleted=True)
    assert len(got) == 6 and got[f"{B}p6/"].deleted and got[f"{B}p5/"].warc is not None
    code, _, _ = run(capsys, "export", str(versions), "--format", "parquet", "-o", str(target))
    assert sorted(r["canonical_url"] for r in pq.read_table(target).to_pylist()) == [
        f"{A}p1/",
        f"{A}p3/",
        f"{B}p4/",
        f"{B}p5/",
    ]


def test_show_history_in_version_order(versions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_records(  # p3's version 1 again, written last but fetched earlier: shown once
        versions,
        "w4",
        make_record(3, text=P3_TEXT, version=1, fetched_at="2024-11-01T00:00:00Z"),
    )
    code, out, _ = run(capsys, "show", str(versions), f"{A}p3")
    assert code == 0
    history = json.loads(out)
    assert [(h["version"], h["deleted"], h.get("fetched_at")) for h in history] == [
        (1, False, "2024-12-01T00:00:00Z"),  # of two identical copies, the later fetched
        (2, True, None),
        (3, False, "2025-03-01T00:00:00Z"),
    ]
    code, out, _ = run(capsys, "show", str(versions), "--latest", f"{A}p2/")
    assert code == 0
    assert Tombstone.model_validate_json(out).status == 410
    # p1 by the URL it was first fetched from; its version 2 was written twice: shown once
    code, out, _ = run(capsys, "show", str(versions), f"{A}?p=1")
    assert [(h["version"], h["title"]) for h in json.loads(out)] == [
        (1, "Old title"),
        (2, "New title"),
    ]


# --------------------------------------------------------------------------------------------
# The console script
# --------------------------------------------------------------------------------------------


def test_entry_point_in_pyproject(archive: Path) -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    module, func = meta["project"]["scripts"]["blogarchive"].split(":")
    assert (module, func) == ("archive.cli", "main")
    code = f"import sys; from {module} import {func}; sys.exit({func}())"
    proc = subprocess.run(
        [sys.executable, "-c", code, "verify", str(archive)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK: 6 records")


def test_installed_console_script(archive: Path) -> None:
    bindir = str(Path(sys.executable).parent)
    script = shutil.which("blogarchive", path=os.pathsep.join([bindir, os.environ["PATH"]]))
    if script is None:
        pytest.skip("the blogarchive console script is not installed (pip install -e .)")
    damage(archive)
    proc = subprocess.run(
        [script, "verify", str(archive)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1, proc.stderr
    assert "not JSON" in proc.stdout and proc.stdout.splitlines()[-1].startswith("FAILED")
    assert proc.stderr == ""

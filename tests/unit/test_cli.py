"""The blogarchive command line."""

from __future__ import annotations

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
from schemas.post import PostRecord, content_hash

REPO = Path(__file__).resolve().parents[2]
A = "https://a.example/"
B = "https://b.example/blog/"


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
    """Two sites, two writers, an old and a new version of A's post 1."""
    directory = tmp_path / "arch"
    with ArchiveWriter(directory, "one") as w:
        w.write(make_record(1, title="Old title", fetched_at="2024-12-01T00:00:00Z"))
        w.write(make_record(2, published="2023-05-06T00:00:00Z"))
        w.write(make_record(3, kind="page", published=None, text="About me"))
    with ArchiveWriter(directory, "two", compress=True) as w:
        w.write(make_record(1, title="New title", fetched_at="2025-02-01T00:00:00Z"))
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
    words = len(make_record(1)["text"].split())
    assert stats["sites"][A] == {
        "posts": 2,  # post 1 counted once
        "pages": 1,
        "words": 2 * words + 2,
        "first_published": "2023-05-06T00:00:00+00:00",
        "last_published": "2024-01-02T03:04:05+00:00",
        "languages": {"en": 3},
        "last_fetched_at": "2025-02-01T00:00:00+00:00",
    }
    assert stats["sites"][B]["languages"] == {"de": 1, "fr": 1}
    assert stats["sites"][B]["last_fetched_at"] == "2025-03-04T05:06:07+00:00"
    total = stats["total"]
    assert (total["posts"], total["pages"], total["words"]) == (4, 1, 4 * words + 2)
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
        "words",
        "published",
        "languages",
        "last",
        "fetched",
    ]
    assert lines[1].split()[:3] == [A, "2", "1"]
    assert "2023-05-06..2024-01-02" in lines[1] and "en:3" in lines[1]
    assert lines[2].split()[0] == B and "de:1 fr:1" in lines[2]
    assert lines[3].split()[:3] == ["total", "4", "1"]


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

"""Issue 12, cases 1 and 3: the archive is the source of truth in both directions (records
missing from it are fetched and written again; `verify` reports the divergence), and damaged
profile or state files are moved aside with a WARNING and rebuilt."""

from __future__ import annotations

import shutil

import pytest

from archive import cli
from archive.store import archive_files, iter_records
from tests.conftest import run_crawl
from tests.httpserver import Route, SiteServer
from tests.unit.hostile import HTML, article, good_blog, text

SETTINGS = ("EXTRACT_WORKERS=1", "AUTOTHROTTLE_ENABLED=False")


def posts(archive_dir):
    return sorted((r.url, r.version) for r in iter_records(archive_dir) if not r.deleted)


@pytest.mark.parametrize("damage", ["deleted", "corrupted", "restored"])
def test_records_missing_from_the_archive_are_written_again(tmp_path, damage, capsys):
    archive_dir = tmp_path / "archive"
    with SiteServer(good_blog(4)) as site:
        assert run_crawl([site.url], archive_dir, *SETTINGS, log_name="1").returncode == 0
        [first] = archive_files(archive_dir)
        backup = first.read_bytes()
        assert len(posts(archive_dir)) == 4
        if damage == "restored":  # post 0 changes, crawl 2 archives version 2; then the
            site.routes["/2024/01/post-0/"] = Route(  # backup of before crawl 2 comes back
                200, article("Post 0", text(1000) + ["Ein neuer Absatz."]).encode(), HTML
            )
            proc = run_crawl([site.url], archive_dir, *SETTINGS, "RECHECK_ALL=True", log_name="2")
            assert proc.returncode == 0
            assert (site.url + "2024/01/post-0/", 2) in posts(archive_dir)
            for path in archive_files(archive_dir):
                path.unlink()
            first.write_bytes(backup)
        elif damage == "deleted":
            first.unlink()
        else:
            first.write_bytes(backup.splitlines(keepends=True)[0] + b"\x00garbage\n" * 3)
        capsys.readouterr()
        assert cli.main(["verify", str(archive_dir)]) == 1
        out = capsys.readouterr().out
        assert "missing from the archive" in out, out
        proc = run_crawl([site.url], archive_dir, *SETTINGS, "RECHECK_ALL=True", log_name="3")
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert "they will be fetched and written again" in proc.log
    expected_post0 = 2 if damage == "restored" else 1
    have = dict(posts(archive_dir))
    assert set(have) == {f"{site.url}2024/01/post-{i}/" for i in range(4)}
    assert have[f"{site.url}2024/01/post-0/"] == expected_post0
    capsys.readouterr()
    code = cli.main(["verify", str(archive_dir)])
    out = capsys.readouterr().out
    assert "missing from the archive" not in out
    assert code == (1 if damage == "corrupted" else 0), out  # the garbage lines stay listed


def test_damaged_profile_and_state_are_moved_aside_and_rebuilt(tmp_path):
    archive_dir = tmp_path / "archive"
    with SiteServer(good_blog(4)) as site:
        assert run_crawl([site.url], archive_dir, *SETTINGS, log_name="1").returncode == 0
        profiles = archive_dir / "profiles-main.json"
        state = archive_dir / "state-main.sqlite"
        assert profiles.exists() and state.exists()
        profiles.write_text('{"format": 1, "sites": {"x": [')
        state.write_bytes(b"this is not a database" * 100)
        proc = run_crawl([site.url], archive_dir, *SETTINGS, log_name="2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = proc.log
    assert f"WARNING: {profiles}: damaged site profiles" in log
    assert f"WARNING: {state}: damaged crawl state" in log
    assert len(list(archive_dir.glob("profiles-main.json.damaged-*"))) == 1
    assert len(list(archive_dir.glob("state-main.sqlite.damaged-*"))) == 1
    assert "Traceback" not in log
    # the state was rebuilt from the archive: nothing archived twice
    assert len(list(iter_records(archive_dir))) == 4
    shutil.rmtree(archive_dir / "records")

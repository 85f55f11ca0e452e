"""The README's two commands are what .ci/run runs, and they are true (issue 9)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.blogfarm import ROOT
from tests.readme import CI_RUN, PARSER, commands, parser


def _ci_lines() -> list[str]:
    lines = (line.strip() for line in CI_RUN.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_has_the_two_commands():
    readme = commands()
    assert readme["install"].startswith("python3 -m venv .venv && . .venv/bin/activate")
    assert "pip install -e '.[test]'" in readme["install"]
    assert "scrapy crawl blogs" in readme["install"]
    assert readme["test"] == "python -m pytest"


def test_ci_runs_the_readme_commands_and_nothing_else_installs_the_project():
    lines = _ci_lines()
    assert "install_and_crawl=$(python3 .ci/readme_commands.py install)" in lines
    assert "run_tests=$(python3 .ci/readme_commands.py test)" in lines
    assert 'eval "$install_and_crawl"' in lines and 'eval "$run_tests"' in lines
    hidden = [
        line
        for line in lines
        if re.search(r"\bpip\b|\bvenv\b|pytest|scrapy crawl", line)
        and "readme_commands" not in line
    ]
    assert hidden == [], f".ci/run has steps of its own that the README does not: {hidden}"


def test_parser_refuses_a_readme_without_the_section():
    with pytest.raises(ValueError, match="The two commands"):
        parser.readme_commands("# blogarchive\n\n## Crawling\n")
    with pytest.raises(ValueError, match="exactly 2"):
        parser.readme_commands("x\n## The two commands\n\n```sh\nls\n```\n\n## Next\n")


def test_script_prints_each_command():
    for name in ("install", "test"):
        out = subprocess.run(
            [sys.executable, str(PARSER), name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert out == commands()[name]


def test_version_flag():
    out = subprocess.run(
        [sys.executable, "-m", "archive.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    pattern = r"blogarchive \d+\.\d+\.\d+\S* \(trafilatura [^,]+, Scrapy [^,]+, Python \S+\)\n"
    assert re.fullmatch(pattern, out)

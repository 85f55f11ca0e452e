"""The README's two commands, parsed by the same code as .ci/run (.ci/readme_commands.py)."""

from __future__ import annotations

import importlib.util

from tests.blogfarm import ROOT

README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
PARSER = ROOT / ".ci" / "readme_commands.py"

_spec = importlib.util.spec_from_file_location("readme_commands", PARSER)
assert _spec and _spec.loader
parser = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(parser)


def commands() -> dict[str, str]:
    """{"install": the first command, "test": the second}, as the README has them."""
    return parser.readme_commands(README.read_text(encoding="utf-8"))

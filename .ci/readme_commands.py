"""Print one of the README's two commands, so that .ci/run runs them exactly as written.

Usage: python3 .ci/readme_commands.py install|test
The commands are the first two ```sh blocks under the README heading "## The two commands".
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
HEADING = "## The two commands"
NAMES = ("install", "test")


def readme_commands(text: str) -> dict[str, str]:
    """{"install": ..., "test": ...} from the README's text; ValueError when it is not there."""
    start = text.find(f"\n{HEADING}\n")
    if start < 0:
        raise ValueError(f"README has no {HEADING!r} section")
    section = text[start + len(HEADING) + 2 :]
    end = re.search(r"^## ", section, re.MULTILINE)
    section = section[: end.start()] if end else section
    blocks = re.findall(r"^```sh\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)
    if len(blocks) != len(NAMES):
        raise ValueError(f"{HEADING!r} must hold exactly {len(NAMES)} sh blocks, not {len(blocks)}")
    return dict(zip(NAMES, (block.strip() for block in blocks), strict=True))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in NAMES:
        print(f"usage: readme_commands.py {'|'.join(NAMES)}", file=sys.stderr)
        return 2
    print(readme_commands(README.read_text(encoding="utf-8"))[argv[0]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

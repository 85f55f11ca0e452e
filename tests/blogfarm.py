"""Access to ../shared/blogfarm for tests: ground truth and the recorded snapshot (no server)."""

from __future__ import annotations

import functools
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOGFARM = Path(os.environ.get("BLOGFARM_DIR", ROOT.parent / "shared" / "blogfarm"))
THEMES = {18080: "twentytwentyone", 18081: "twentytwentythree", 18082: "twentytwentytwo"}


@dataclass(frozen=True)
class Recorded:
    status: int
    content_type: str
    location: str | None
    body: bytes


@functools.cache
def groundtruth() -> list[dict]:
    with open(BLOGFARM / "groundtruth.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@functools.cache
def snapshot() -> dict[tuple[int, str], Recorded]:
    """Every recorded response of the snapshot, keyed by (port, path with query)."""
    pages: dict[tuple[int, str], Recorded] = {}
    with tarfile.open(BLOGFARM / "blogfarm-snapshot.tar.xz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        for port in THEMES:
            prefix = f"snapshot/{port}/"
            manifest = json.load(tar.extractfile(members[prefix + "manifest.json"]))
            for path, entry in manifest.items():
                body = b""
                if entry.get("body"):
                    body = tar.extractfile(members[prefix + "bodies/" + entry["body"]]).read()
                pages[(port, path)] = Recorded(
                    entry["status"], entry.get("type") or "", entry.get("location"), body
                )
    return pages


def recorded_page(url: str) -> Recorded:
    """The recorded response for a blogfarm URL such as http://127.0.0.1:18081/impressum/."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return snapshot()[(parts.port or 80, path)]

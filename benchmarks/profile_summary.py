"""Summarise a py-spy profile of a crawl: where the crawl process and the workers spend CPU.

    py-spy record --subprocesses --idle --format raw -r 100 -o prof.txt -- \\
        python -m scrapy crawl blogs -a site=http://127.0.0.1:19080/ -s ARCHIVE_DIR=/tmp/a ...
    python benchmarks/profile_summary.py prof.txt [--top 25] [--match archive/store.py]

Reads py-spy's raw (collapsed) stacks, `frame;frame;...;leaf COUNT`, whose first frame is the
processes with --subprocesses (`process N:"cmd"`, nested: scrapy; forkserver; worker).
Processes are grouped into `crawl` (the scrapy process), `forkserver` and `workers`. For each
group: samples, the top frames by self time, and the top frames by inclusive time (a frame
counted once per stack); idle samples (the reactor's select/epoll, a worker waiting for a
task) are counted apart when recorded with --idle.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_IDLE = re.compile(
    r"\b(select|poll|epoll|_poll|wait|_wait_for_tstate_lock|recv_bytes|_recv|_recv_bytes|"
    r"read|accept|sleep|acquire)\b \("
)
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def short(frame: str) -> str:
    """`func (path/to/file.py:12)` -> `func (pkg/file.py)`: the line dropped, the path cut."""
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "/lib/python3", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m['func']} ({path})"


def group_of(depth: int, frames: list[str]) -> str:
    """`crawl` (the scrapy process), `workers` (extraction pool) or `helpers` (forkserver,
    resource tracker). py-spy nests the processes (scrapy; forkserver; worker), but leaves
    out the idle forkserver when recording without --idle: tell by the frames."""
    if any("_process_worker" in f for f in frames):
        return "workers"
    return "crawl" if depth <= 1 else "helpers"


def summarise(path: Path, top: int = 25, match: str | None = None) -> str:
    self_time: dict[str, Counter[str]] = {}
    inclusive: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    idle: Counter[str] = Counter()
    for raw in path.read_text(errors="replace").splitlines():
        stack, _, count_text = raw.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        depth = 0
        while depth < len(frames) and frames[depth].startswith("process "):
            depth += 1
        frames = frames[depth:]
        group = group_of(depth, frames)
        totals[group] += count
        if not frames:
            continue
        leaf = frames[-1]
        if _IDLE.search(leaf) and not any("analyse_page" in f for f in frames):
            idle[group] += count
            continue
        self_time.setdefault(group, Counter())[short(leaf)] += count
        seen = {short(f) for f in frames}
        incl = inclusive.setdefault(group, Counter())
        for name in seen:
            if match is None or match in name:
                incl[name] += count
    out: list[str] = []
    for group in sorted(totals):
        busy = totals[group] - idle[group]
        out.append(f"== {group}: {totals[group]} samples, {busy} busy, {idle[group]} idle")
        out.append(f"-- self time (share of busy samples), top {top}")
        for name, n in self_time.get(group, Counter()).most_common(top):
            out.append(f"{n / busy:6.1%} {n:7d}  {name}")
        out.append(f"-- inclusive time, top {top}" + (f" matching {match!r}" if match else ""))
        for name, n in inclusive.get(group, Counter()).most_common(top):
            out.append(f"{n / busy:6.1%} {n:7d}  {name}")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path, help="py-spy --format raw output")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", help="inclusive time of frames containing this text only")
    args = parser.parse_args(argv)
    print(summarise(args.profile, args.top, args.match))
    return 0


if __name__ == "__main__":
    sys.exit(main())

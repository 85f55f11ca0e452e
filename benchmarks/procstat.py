"""CPU time and memory of a process tree, from /proc (Linux), sampled while it runs.

`measure(cmd, ...)` starts a command and, until it exits, samples every `interval` seconds the
CPU time (utime + stime), current RSS (VmRSS) and peak RSS (VmHWM) of the process and of all its
descendants (the forkserver of the extraction pool and its workers), and the page count the
command's log says (progress lines). The command's own CPU time is exact: it is read from
/proc/<pid>/stat after it exited and before it is reaped (`waitid(WNOWAIT)`); the
descendants' CPU is their last sample (they are not our children), so it misses at most one
interval of each at its very end, when workers are idle.

No psutil needed; psutil cannot read VmHWM anyway.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")

# the project's CrawlProgress line, and Scrapy's LogStats line (plain spiders)
_PROGRESS = re.compile(rb"progress: fetched (\d+) responses|Crawled (\d+) pages \(at")


def read_stat(pid: int) -> tuple[int, float] | None:
    """(ppid, CPU seconds of the process itself) from /proc/<pid>/stat; None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def read_memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB; (0, 0) for a zombie or a vanished process."""
    rss = hwm = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, hwm


def children(pid: int) -> list[int]:
    """Direct children of a process (/proc/<pid>/task/<tid>/children)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            continue
    return found


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode("utf-8", "replace")
        )
    except OSError:
        return ""


@dataclass
class ProcInfo:
    """What the samples saw of one process."""

    pid: int
    role: str  # main, worker, forkserver, resource_tracker
    cpu_s: float = 0.0
    rss_kb: int = 0
    hwm_kb: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0


@dataclass
class Measurement:
    """One measured command."""

    returncode: int
    wall_s: float
    main_cpu_s: float  # the command's own process (exact)
    children_cpu_s: float  # all its descendants (sampled)
    rusage_total_s: float  # wait4: the process + the descendants it reaped (cross-check)
    processes: list[ProcInfo]
    timeline: list[tuple[float, int, int]] = field(default_factory=list)  # (t, pages, rss kB)

    @property
    def cpu_total_s(self) -> float:
        return max(self.main_cpu_s + self.children_cpu_s, self.rusage_total_s)

    def role_cpu(self, role: str) -> float:
        return sum(p.cpu_s for p in self.processes if p.role == role)

    @property
    def main(self) -> ProcInfo:
        return self.processes[0]

    def rss_at_pages(self, pages: int) -> tuple[int, int] | None:
        """(pages, RSS kB) of the main process at the first sample with >= `pages` pages."""
        for _t, count, rss in self.timeline:
            if count >= pages and rss:
                return count, rss
        return None

    def rss_end(self) -> tuple[int, int] | None:
        """(pages, RSS kB) of the main process at its last sample while alive."""
        for _t, count, rss in reversed(self.timeline):
            if rss:
                return count, rss
        return None


class _LogTail:
    """The last page count a growing log file states."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.offset = 0
        self.rest = b""
        self.pages = 0

    def poll(self) -> int:
        if self.path is None:
            return self.pages
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except OSError:
            return self.pages
        self.offset += len(data)
        data = self.rest + data
        cut = data.rfind(b"\n") + 1
        self.rest = data[cut:]
        for match in _PROGRESS.finditer(data[:cut]):
            self.pages = int(match.group(1) or match.group(2))
        return self.pages


class _Sampler(threading.Thread):
    def __init__(self, root: int, interval: float, log_file: Path | None) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.log = _LogTail(log_file)
        self.procs: dict[int, ProcInfo] = {}
        self.timeline: list[tuple[float, int, int]] = []
        self.started = time.monotonic()
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def _role(self, pid: int, depth: int) -> str:
        if depth == 0:
            return "main"
        cmd = _cmdline(pid)
        if "resource_tracker" in cmd:
            return "resource_tracker"
        if depth == 1 and "forkserver" in cmd:
            return "forkserver"
        return "worker"

    def sample(self) -> None:
        now = time.monotonic() - self.started
        todo = [(self.root, 0)]
        while todo:
            pid, depth = todo.pop()
            stat = read_stat(pid)
            if stat is None:
                continue
            info = self.procs.get(pid)
            if info is None:
                info = self.procs[pid] = ProcInfo(pid, self._role(pid, depth), first_seen=now)
            rss, hwm = read_memory(pid)
            info.cpu_s = max(info.cpu_s, stat[1])
            if rss:
                info.rss_kb = rss
            info.hwm_kb = max(info.hwm_kb, hwm)
            info.last_seen = now
            if pid == self.root:
                self.timeline.append((now, self.log.poll(), rss))
            todo += [(child, depth + 1) for child in children(pid)]


def measure(
    cmd: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    log_file: Path | None = None,
    interval: float = 0.25,
    stdin: int | None = subprocess.DEVNULL,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
    stdout: int | None = subprocess.DEVNULL,
) -> Measurement:
    """Run `cmd` to its end, sampling its process tree; see the module docstring."""
    started = time.monotonic()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=stdin, stdout=stdout)
    sampler = _Sampler(proc.pid, interval, log_file)
    sampler.start()
    if on_start is not None:
        on_start(proc)
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, still a zombie
    wall = time.monotonic() - started
    sampler.stop_event.set()
    sampler.join()
    sampler.sample()  # the zombie's final CPU time; descendants still shutting down
    stat = read_stat(proc.pid)
    _pid, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    main = sampler.procs.get(proc.pid) or ProcInfo(proc.pid, "main")
    if stat is not None:
        main.cpu_s = stat[1]
    others = [p for pid, p in sampler.procs.items() if pid != proc.pid]
    return Measurement(
        returncode=proc.returncode,
        wall_s=wall,
        main_cpu_s=main.cpu_s,
        children_cpu_s=sum(p.cpu_s for p in others),
        rusage_total_s=rusage.ru_utime + rusage.ru_stime,
        processes=[main, *sorted(others, key=lambda p: p.first_seen)],
        timeline=sampler.timeline,
    )

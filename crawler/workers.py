"""Page analysis off the reactor thread, in worker processes.

The crawl process downloads and schedules; parsing and extraction (CPU work) run in
`EXTRACT_WORKERS` processes started from a forkserver that has the extractor imported and
warmed up. Each worker has a pipe of its own for pages and one for results, read by the
reactor's own event loop: no helper threads in the crawl process that would compete with the
reactor for the GIL (`concurrent.futures.ProcessPoolExecutor` has two), and up to
`EXTRACT_PREFETCH` pages wait in each worker's pipe so that a worker never waits for the
reactor to hand it the next page.

A worker retires after `EXTRACT_MAX_TASKS_PER_WORKER` pages (trafilatura and htmldate keep
caches that grow): it finishes the pages it has and exits, and a fresh one takes its place.
A worker that dies (a crash, the OOM killer) fails the page it was working on with
`WorkerDied`; the pages queued behind it go to the other workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import multiprocessing
import os
import pickle
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from scrapy.settings import BaseSettings

from crawler.extract.page import analyse_page
from crawler.extract.types import PageAnalysis

logger = logging.getLogger(__name__)

_PIPE_SIZE = 1 << 20  # Linux's default pipe-max-size: room for several pages
_PICKLE = pickle.HIGHEST_PROTOCOL


class WorkerDied(RuntimeError):
    """The extraction worker exited while it was analysing this page."""


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _serve(tasks: Connection, results: Connection) -> None:
    """A worker: analyse pages until the pool sends None or goes away."""
    while True:
        try:
            data = tasks.recv_bytes()
        except EOFError:
            return
        kwargs = pickle.loads(data)
        if kwargs is None:
            return
        try:
            reply: tuple[bool, Any] = (True, analyse_page(**kwargs))
        except Exception as exc:
            reply = (False, exc)
        try:
            payload = pickle.dumps(reply, _PICKLE)
        except Exception as exc:  # an exception (or result) that cannot be pickled
            payload = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")), _PICKLE)
        results.send_bytes(payload)


def _pipe(context: Any) -> tuple[Connection, Connection, int]:
    """(reader, writer, capacity in bytes) of a one-way pipe, enlarged where Linux allows."""
    reader, writer = context.Pipe(duplex=False)
    capacity = 1 << 16
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(writer.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    with contextlib.suppress(AttributeError, OSError):
        capacity = fcntl.fcntl(writer.fileno(), fcntl.F_GETPIPE_SZ)
    return reader, writer, capacity


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    tasks: Connection  # parent's writing end
    results: Connection  # parent's reading end
    capacity: int  # of the task pipe
    inflight: deque[tuple[asyncio.Future[PageAnalysis], dict[str, Any], int]] = field(
        default_factory=deque
    )  # sent, not answered yet: (future, kwargs, payload size)
    sent: int = 0
    retiring: bool = False
    loop: asyncio.AbstractEventLoop | None = None  # whose reader watches `results`


class ExtractionPool:
    """`await pool.analyse(...)` runs `analyse_page(...)` in a worker process (inline if 0)."""

    def __init__(
        self, workers: int, max_tasks_per_worker: int | None = None, prefetch: int = 2
    ) -> None:
        self.workers = workers
        self.max_tasks_per_worker = max_tasks_per_worker or None
        self.prefetch = max(1, prefetch)
        self.workers_started = 0
        self._live: list[_Worker] = []
        self._pending: deque[tuple[asyncio.Future[PageAnalysis], dict[str, Any]]] = deque()
        self._closed = False
        self._context: Any = None
        if workers > 0:
            self._context = multiprocessing.get_context("forkserver")
            self._context.set_forkserver_preload(["crawler.extract.warmup"])
            for _ in range(workers):
                self._start_worker()

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ExtractionPool:
        configured = settings.get("EXTRACT_WORKERS")
        workers = default_workers() if configured in (None, "") else int(configured)
        return cls(
            workers,
            settings.getint("EXTRACT_MAX_TASKS_PER_WORKER", 2000),
            settings.getint("EXTRACT_PREFETCH", 2),
        )

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers (retiring ones included)."""
        return [w.process.pid for w in self._live if w.process.pid is not None]

    async def analyse(self, **kwargs: Any) -> PageAnalysis:
        if self.workers <= 0:
            return analyse_page(**kwargs)
        if self._closed:
            raise RuntimeError("the extraction pool is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[PageAnalysis] = loop.create_future()
        self._pending.append((future, kwargs))
        self._dispatch(loop)
        return await future

    def close(self) -> None:
        """Stop every worker (after the page it is on) and fail what is still waiting."""
        self._closed = True
        for future, _kwargs in self._pending:
            future.cancel()
        self._pending.clear()
        for worker in self._live:
            self._unwatch(worker)
            if not worker.retiring:
                with contextlib.suppress(OSError):
                    worker.tasks.send_bytes(pickle.dumps(None))
        for worker in self._live:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=5)
            for future, _kwargs, _size in worker.inflight:
                future.cancel()
            worker.tasks.close()
            worker.results.close()
        self._live.clear()

    # -- internals -------------------------------------------------------------------------

    def _start_worker(self) -> _Worker:
        task_reader, task_writer, capacity = _pipe(self._context)
        result_reader, result_writer, _ = _pipe(self._context)
        process = self._context.Process(
            target=_serve, args=(task_reader, result_writer), name="extract", daemon=True
        )
        process.start()
        task_reader.close()
        result_writer.close()
        worker = _Worker(process, task_writer, result_reader, capacity)
        self._live.append(worker)
        self.workers_started += 1
        return worker

    def _watch(self, worker: _Worker, loop: asyncio.AbstractEventLoop) -> None:
        if worker.loop is loop:
            return
        self._unwatch(worker)
        loop.add_reader(worker.results.fileno(), self._readable, worker)
        worker.loop = loop

    def _unwatch(self, worker: _Worker) -> None:
        if worker.loop is not None and not worker.loop.is_closed():
            worker.loop.remove_reader(worker.results.fileno())
        worker.loop = None

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send waiting pages to the least busy workers, up to `prefetch` each."""
        while self._pending and not self._closed:
            worker = min(
                (w for w in self._live if not w.retiring and len(w.inflight) < self.prefetch),
                key=lambda w: len(w.inflight),
                default=None,
            )
            if worker is None:
                return
            future, kwargs = self._pending[0]
            if future.done():  # cancelled while it waited
                self._pending.popleft()
                continue
            payload = pickle.dumps(kwargs, _PICKLE)
            queued = sum(size for _f, _k, size in worker.inflight)
            if worker.inflight and queued + len(payload) > worker.capacity:
                return  # it would block the reactor: wait until a worker is free
            self._pending.popleft()
            self._watch(worker, loop)
            try:
                worker.tasks.send_bytes(payload)
            except OSError:  # it died while idle: replace it, try again
                self._pending.appendleft((future, kwargs))
                self._gone(worker)
                continue
            worker.inflight.append((future, kwargs, len(payload)))
            worker.sent += 1
            if self.max_tasks_per_worker and worker.sent >= self.max_tasks_per_worker:
                self._retire(worker)

    def _retire(self, worker: _Worker) -> None:
        """The worker exits after the pages it has; a fresh one takes its place."""
        worker.retiring = True
        with contextlib.suppress(OSError):
            worker.tasks.send_bytes(pickle.dumps(None))
        if not self._closed:
            self._start_worker()

    def _readable(self, worker: _Worker) -> None:
        try:
            while worker.results.poll():
                ok, value = pickle.loads(worker.results.recv_bytes())
                future, _kwargs, _size = worker.inflight.popleft()
                if not future.done():
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        except (EOFError, OSError):
            self._gone(worker)
        if worker.loop is not None:
            self._dispatch(worker.loop)

    def _gone(self, worker: _Worker) -> None:
        """The worker's result pipe closed: it exited (retired) or died."""
        loop = worker.loop
        self._unwatch(worker)
        worker.process.join(timeout=5)
        self._live.remove(worker)
        worker.tasks.close()
        worker.results.close()
        if worker.inflight:
            future, kwargs, _size = worker.inflight.popleft()
            url = kwargs.get("url")
            logger.error(
                "an extraction worker died (exit code %s) on %s; starting another",
                worker.process.exitcode,
                url,
            )
            if not future.done():
                future.set_exception(WorkerDied(f"extraction worker died on {url}"))
            # the pages queued behind it were never started: give them to the others
            for queued, queued_kwargs, _ in reversed(worker.inflight):
                self._pending.appendleft((queued, queued_kwargs))
            worker.inflight.clear()
            if not worker.retiring and not self._closed:
                self._start_worker()
        elif not worker.retiring and not self._closed:
            logger.error("an extraction worker exited (exit code %s); starting another",
                         worker.process.exitcode)  # fmt: skip
            self._start_worker()
        if loop is not None and not loop.is_closed():
            self._dispatch(loop)

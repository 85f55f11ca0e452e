"""Page analysis off the reactor thread, in a pool of worker processes.

The crawl process only downloads and schedules; parsing and extraction (CPU work) run in
`EXTRACT_WORKERS` processes. The pool is replaced after `EXTRACT_MAX_TASKS_PER_WORKER` pages
a worker, so caches that grow inside trafilatura and htmldate cannot grow without bound: the
old pool finishes the pages it has and its processes exit. (Not `max_tasks_per_child`: on
CPython 3.11 a ProcessPoolExecutor that retires workers that way can stop replacing them and
hang for good; seen here after 4,000 pages.)
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy.settings import BaseSettings

from crawler.extract.page import analyse_page
from crawler.extract.types import PageAnalysis

logger = logging.getLogger(__name__)


def _run(kwargs: dict[str, Any]) -> PageAnalysis:
    return analyse_page(**kwargs)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


class ExtractionPool:
    """`await pool.analyse(...)` runs `analyse_page(...)` in a worker process (inline if 0)."""

    def __init__(self, workers: int, max_tasks_per_worker: int | None = None) -> None:
        self.workers = workers
        self.max_tasks_per_worker = max_tasks_per_worker or None
        self._executor: Executor | None = self._new_executor() if workers > 0 else None
        self._submitted = 0  # tasks given to the current pool
        self.pools_started = 1 if workers > 0 else 0

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ExtractionPool:
        configured = settings.get("EXTRACT_WORKERS")
        workers = default_workers() if configured in (None, "") else int(configured)
        return cls(workers, settings.getint("EXTRACT_MAX_TASKS_PER_WORKER", 2000))

    def _new_executor(self) -> Executor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["crawler.extract.warmup"])
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context)

    def _current(self) -> Executor:
        """The pool for the next task: a fresh one once this one has done its share."""
        assert self._executor is not None
        self._submitted += 1
        limit = self.max_tasks_per_worker
        if limit and self._submitted > limit * self.workers:
            retiring = self._executor
            self._executor = self._new_executor()
            self._submitted = 1
            self.pools_started += 1
            retiring.shutdown(wait=False)  # finishes what it has, then its processes exit
        return self._executor

    async def analyse(self, **kwargs: Any) -> PageAnalysis:
        if self._executor is None:
            return analyse_page(**kwargs)
        try:
            return await asyncio.wrap_future(self._current().submit(_run, kwargs))
        except BrokenProcessPool:
            logger.error("an extraction worker died on %s; restarting the pool", kwargs.get("url"))
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor()
            raise

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

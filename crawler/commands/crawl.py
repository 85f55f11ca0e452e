"""`scrapy crawl` with an exit status that says how the crawl ended (COMMANDS_MODULE).

Exit status: 0 when the crawl finished (`finish_reason` `finished`, no CRITICAL line); 2 when
it was interrupted (Ctrl-C, SIGTERM: `shutdown`; twice: `forced_shutdown`); 1 for any other
end (`archive_write_error`, `state_error`, `redis_unavailable`, `memusage_exceeded`, a
spider that could not start, a CRITICAL line). The stats file (`STATS_FILE`) is written in
every case, with `finish_reason`. URL user info is masked in every log line.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl

from crawler.auth import install_log_redaction
from crawler.extensions import write_stats_file

logger = logging.getLogger(__name__)

INTERRUPTED = frozenset({"shutdown", "forced_shutdown"})


def exit_status(finish_reason: str | None, critical: int = 0) -> int:
    if finish_reason in INTERRUPTED:
        return 2
    if finish_reason != "finished" or critical:
        return 1
    return 0


def _stats_of(crawler: Any) -> Any:
    """The crawler's stats collector, or None when the crawl never started (a spider that
    could not be built)."""
    try:
        return crawler.stats
    except RuntimeError:
        return None


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        install_log_redaction()
        if len(args) != 1:
            super().run(args, opts)  # its usage errors
            return
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        collector = _stats_of(crawler)
        stats = collector.get_stats() if collector is not None else {}
        reason = stats.get("finish_reason")
        if self.crawler_process.bootstrap_failed and reason is None:
            reason = "bootstrap_failed"
        elif reason is None:  # the reactor stopped before the spider closed (a second Ctrl-C)
            reason = "forced_shutdown"
        if stats.get("finish_reason") != reason:
            write_stats_file(crawler, reason, None if collector is not None else {})
        self.exitcode = exit_status(reason, int(stats.get("log_count/CRITICAL", 0)))
        if self.exitcode:
            logger.warning(
                "crawl ended with finish reason %s: exit status %d", reason, self.exitcode
            )

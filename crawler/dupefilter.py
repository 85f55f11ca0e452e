"""Request de-duplication that says when a redirect ends on a URL already seen."""

from __future__ import annotations

import logging

from scrapy import Request, Spider
from scrapy.dupefilters import RFPDupeFilter
from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


def log_filtered_redirect(request: Request, stats: StatsCollector) -> None:
    """A request the dupefilter dropped that ends a redirect chain: a loop, or an alias (such as
    `?p=ID`) of a page already fetched. Say so, instead of letting it vanish silently."""
    chain = request.meta.get("redirect_urls")
    if not chain:
        return
    if request.url in chain:
        logger.warning(
            "skipped %s: redirect loop (%s)", chain[0], " -> ".join([*chain, request.url])
        )
        reason = "redirect_loop"
    else:
        logger.debug("%s redirects to %s, already fetched", chain[0], request.url)
        reason = "redirect_to_seen"
    stats.inc_value(f"blogarchive/skipped/{reason}")


class RedirectAwareDupeFilter(RFPDupeFilter):
    """Scrapy's fingerprint filter, logging filtered redirects (`log_filtered_redirect`)."""

    def log(self, request: Request, spider: Spider) -> None:
        log_filtered_redirect(request, spider.crawler.stats)
        super().log(request, spider)

"""Request de-duplication that says when a redirect ends on a URL already seen."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter

logger = logging.getLogger(__name__)


class RedirectAwareDupeFilter(RFPDupeFilter):
    """Scrapy's fingerprint filter; a filtered redirect (a loop, or an alias such as `?p=ID`
    of a page already fetched) is logged with its chain instead of vanishing silently."""

    def log(self, request: Request, spider: object) -> None:
        chain = request.meta.get("redirect_urls")
        if chain:
            if request.url in chain:
                logger.warning(
                    "skipped %s: redirect loop (%s)", chain[0], " -> ".join([*chain, request.url])
                )
                reason = "redirect_loop"
            else:
                logger.debug("%s redirects to %s, already fetched", chain[0], request.url)
                reason = "redirect_to_seen"
            spider.crawler.stats.inc_value(f"blogarchive/skipped/{reason}")  # type: ignore[attr-defined]
        super().log(request, spider)

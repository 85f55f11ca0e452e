"""The naive design, for crawl_bench.py: `trafilatura.extract()` called in the spider callback.

    scrapy runspider benchmarks/naive_spider.py -a site=http://127.0.0.1:19080/ -o posts.jsonl

The minimal Scrapy spider most people would write: read the blog's sitemaps (from
robots.txt), fetch every page they list and extract it with trafilatura, with metadata and
comments, on the reactor thread. No classification, no archive, no WARC, no crawl state.
Run it outside the project directory (crawl_bench does) so that only Scrapy's defaults and
the `-s` options apply, not the project's settings. `-s STATS_FILE=PATH` writes the final
stats as JSON, like the project's crawl.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import trafilatura
from scrapy.http import Response
from scrapy.spiders import SitemapSpider


class NaiveSpider(SitemapSpider):
    name = "naive"

    def __init__(self, site: str = "http://127.0.0.1:19080/", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [site.rstrip("/") + "/robots.txt"]

    def parse(self, response: Response) -> Iterator[dict[str, Any]]:
        self.crawler.stats.inc_value("naive/pages")
        extracted = trafilatura.extract(
            response.text,
            url=response.url,
            output_format="json",
            with_metadata=True,
            include_comments=True,
        )
        if extracted:
            self.crawler.stats.inc_value("naive/extracted")
            yield json.loads(extracted)

    def closed(self, reason: str) -> None:
        path = self.crawler.settings.get("STATS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(self.crawler.stats.get_stats(), fh, default=str, indent=1)

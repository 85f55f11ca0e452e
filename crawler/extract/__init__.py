"""HTML knowledge: one page's HTML in, its classification, links and record out.

Everything here is a pure function of its inputs (HTML bytes, URL, hints): no network,
no Scrapy, no global state, so the spider, the CLI and worker processes get the same result.
"""

from crawler.extract.types import Hints, PageAnalysis

__all__ = ["Hints", "PageAnalysis"]

"""Small pieces of the crawl: reading the site list, the extraction pool."""

from __future__ import annotations

import asyncio
import os

import pytest

from crawler.spiders.blogs import read_sites
from crawler.workers import ExtractionPool
from tests.blogfarm import groundtruth, recorded_page


def test_sites_from_argument_and_file(tmp_path):
    listing = tmp_path / "sites.txt"
    listing.write_text(
        "# my blogs\nhttps://a.example/\n\n  blog.example/path/  # comment\nhttps://a.example/\n",
        encoding="utf-8",
    )
    assert read_sites("https://c.example/,https://D.example", str(listing)) == [
        "https://c.example/",
        "https://d.example/",
        "https://a.example/",
        "https://blog.example/path/",
    ]


@pytest.mark.parametrize("bad", ["", " , ", "ftp://x.example/"])
def test_no_usable_site_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="blog"):
        read_sites(bad)


def test_pool_extracts_in_worker_processes_like_inline():
    g = groundtruth()[10]
    url = g["urls_by_theme"]["twentytwentyone"]
    body = recorded_page(url).body
    inline = ExtractionPool(0)
    pooled = ExtractionPool(1)
    try:
        assert pooled._executor is not None
        worker_pid = pooled._executor.submit(os.getpid).result()
        assert worker_pid != os.getpid()

        async def both():
            return (
                await inline.analyse(body=body, url=url, encoding="utf-8", site=url),
                await pooled.analyse(body=body, url=url, encoding="utf-8", site=url),
            )

        a, b = asyncio.run(both())
    finally:
        pooled.close()
    assert a.record is not None and b.record is not None
    assert a.record.content_hash == b.record.content_hash
    assert a.record.model_dump(exclude={"fetched_at"}) == b.record.model_dump(
        exclude={"fetched_at"}
    )

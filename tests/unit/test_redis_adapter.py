"""crawler/redis.py against a real redis-server (started here on a free port)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import DontCloseSpider, DropItem
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from crawler.extract.types import Hints
from crawler.redis import (
    LEASE_META,
    LeasedPriorityQueue,
    RedisDupeFilter,
    ScaleOut,
    Scheduler,
    SharedArchiveFilter,
    crawl_keys,
    main,
    reset,
    status,
)
from crawler.spiders.blogs import BlogsSpider
from crawler.urls import url_key

redis = pytest.importorskip("redis")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throw-away redis-server on 127.0.0.1 (no persistence); yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server; .ci/run does)")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def server(redis_url: str) -> Iterator[Any]:
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.flushall()


class DemoSpider(Spider):
    name = "blogs"
    process_local_callbacks = frozenset({"parse_sitemap"})

    def parse_sitemap(self, response: Any) -> None: ...

    def parse_page(self, response: Any) -> None: ...

    def page_failed(self, failure: Any) -> None: ...


class FakeScraper:
    def enqueue_scrape(self, result: Any, request: Request) -> Deferred:
        return Deferred()


def make_scheduler(redis_url: str, writer: str, **settings: Any) -> Scheduler:
    crawler = get_crawler(
        DemoSpider,
        {
            "REDIS_URL": redis_url,
            "ARCHIVE_WRITER_ID": writer,
            "SCALE_OUT_WORKER_TTL": 5,
            **settings,
        },
    )
    spider = DemoSpider.from_crawler(crawler)
    crawler.spider = spider
    crawler.engine = SimpleNamespace(scraper=FakeScraper())
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(spider)
    return scheduler


@pytest.fixture
def pair(server: Any, redis_url: str) -> Iterator[tuple[Scheduler, Scheduler]]:
    a, b = make_scheduler(redis_url, "w1"), make_scheduler(redis_url, "w2")
    yield a, b
    for scheduler in (a, b):
        if scheduler._heartbeat is not None and scheduler._heartbeat.running:
            scheduler._heartbeat.stop()


def page(spider: Spider, url: str, priority: int = 0, **meta: Any) -> Request:
    return Request(
        url,
        callback=spider.parse_page,
        errback=spider.page_failed,
        priority=priority,
        meta={"site": "http://blog.example/", **meta},
    )


def test_the_spider_keeps_its_discovery_callbacks_local() -> None:
    names = BlogsSpider.process_local_callbacks
    assert {"parse_robots", "parse_sitemap", "parse_feed", "parse_home"} <= names
    assert all(callable(getattr(BlogsSpider, name)) for name in names)
    assert "parse_page" not in names and "complete_comments" not in names


def test_requests_and_their_meta_survive_redis(server: Any, redis_url: str) -> None:
    scheduler = make_scheduler(redis_url, "w1")
    spider = scheduler.spider
    hints = Hints(title="T", authors=["A"], lastmod="2024-01-02", in_feed=True, sitemap_kind="post")
    assert scheduler.enqueue_request(page(spider, "http://blog.example/a/", hints=hints))
    request = scheduler.next_request()
    assert request is not None
    assert request.meta["hints"] == hints and isinstance(request.meta["hints"], Hints)
    assert request.callback == spider.parse_page and request.errback == spider.page_failed
    assert request.meta[LEASE_META]
    scheduler._heartbeat.stop()


def test_shared_queue_dupefilter_and_priorities(pair: tuple[Scheduler, Scheduler]) -> None:
    a, b = pair
    assert a.enqueue_request(page(a.spider, "http://blog.example/low/", 0))
    assert a.enqueue_request(page(a.spider, "http://blog.example/high/", 10))
    assert not b.enqueue_request(page(b.spider, "http://blog.example/low/"))  # seen by a
    assert b.enqueue_request(page(b.spider, "http://blog.example/low/").replace(dont_filter=True))
    assert len(a.queue) == 3 and b.has_pending_requests()
    first = b.next_request()
    assert first is not None and first.url == "http://blog.example/high/"


def test_discovery_requests_stay_in_their_process(pair: tuple[Scheduler, Scheduler]) -> None:
    a, b = pair
    sitemap = Request(
        "http://blog.example/sitemap.xml", callback=a.spider.parse_sitemap, dont_filter=True
    )
    assert a.enqueue_request(sitemap)
    assert len(a.queue) == 0 and a.has_pending_requests() and not b.has_pending_requests()
    assert b.next_request() is None
    assert a.next_request() is sitemap


def test_leases_are_released_when_the_scrape_is_done(pair: tuple[Scheduler, Scheduler]) -> None:
    a, _ = pair
    a.enqueue_request(page(a.spider, "http://blog.example/a/"))
    request = a.next_request()
    assert request is not None
    leases = a._leases(a.worker)
    assert a.server.hlen(leases) == 1
    d = a.crawler.engine.scraper.enqueue_scrape(None, request)  # the hook wraps it
    assert a.server.hlen(leases) == 1
    d.callback(None)
    assert a.server.hlen(leases) == 0
    assert LEASE_META not in request.meta


def test_pages_the_spider_holds_back_stay_leased(pair: tuple[Scheduler, Scheduler]) -> None:
    a, _ = pair
    held: set[str] = set()
    a.spider.held_urls = lambda: held  # the profile warm-up buffer of BlogsSpider
    for url in ("http://blog.example/a/", "http://blog.example/b/"):
        a.enqueue_request(page(a.spider, url))
    first, second = a.next_request(), a.next_request()
    held.add(first.url)
    a._scrape_done(first, SimpleNamespace(url=first.url))
    assert a.server.hlen(a._leases(a.worker)) == 2  # first is held, second in flight
    held.clear()  # second's callback flushed the buffer: first's record is out with it
    a._scrape_done(second, SimpleNamespace(url=second.url))
    assert a.server.hlen(a._leases(a.worker)) == 0


def test_a_redirect_takes_the_lease_over(pair: tuple[Scheduler, Scheduler]) -> None:
    a, _ = pair
    a.enqueue_request(page(a.spider, "http://blog.example/?p=1"))
    request = a.next_request()
    assert request is not None
    redirected = request.replace(url="http://blog.example/a/")
    assert a.enqueue_request(redirected)
    assert a.server.hlen(a._leases(a.worker)) == 0
    again = a.next_request()
    assert again is not None and again.url == "http://blog.example/a/"
    assert again.meta[LEASE_META] != request.meta[LEASE_META]


def test_a_dead_workers_requests_are_put_back(pair: tuple[Scheduler, Scheduler]) -> None:
    a, b = pair
    for n in range(3):
        a.enqueue_request(page(a.spider, f"http://blog.example/{n}/", n))
    taken = [a.next_request() for _ in range(2)]
    assert all(taken) and len(a.queue) == 1
    with pytest.raises(DontCloseSpider):  # a is busy: b must not leave
        b._on_idle()
    assert b.busy_workers() == [a.worker]
    a._heartbeat.stop()
    a.server.delete(a._heartbeat_key(a.worker))  # a died: its heartbeat expired
    assert b.reap_dead_workers() == 2
    assert len(b.queue) == 3 and b.busy_workers() == []
    assert sorted(b.next_request().priority for _ in range(3)) == [0, 1, 2]
    assert a.worker not in {m.decode() for m in b.server.smembers(b.keys["workers"])}


def test_idle_worker_waits_then_the_last_one_cleans_up(pair: tuple[Scheduler, Scheduler]) -> None:
    a, b = pair
    a.enqueue_request(page(a.spider, "http://blog.example/a/"))
    request = a.next_request()
    with pytest.raises(DontCloseSpider):
        b._on_idle()
    a._scrape_done(request)
    b._on_idle()  # nothing leased anywhere: b may close
    a._on_idle()
    b.close("finished")
    assert a.server.exists(a.df.key)  # a is still registered: the keys stay
    a.close("finished")
    assert not a.server.exists(a.df.key, a.keys["workers"], a.queue.key)


def test_a_shutdown_puts_leases_back_and_keeps_the_crawl(pair: tuple[Scheduler, Scheduler]) -> None:
    a, b = pair
    a.enqueue_request(page(a.spider, "http://blog.example/a/"))
    a.next_request()
    b.close("finished")
    a.close("shutdown")
    assert len(a.queue) == 1 and a.server.exists(a.df.key)
    assert status(a.server)["queued"] == 1
    assert reset(a.server) >= 2
    assert not a.server.exists(a.df.key, a.queue.key)


def test_unpicklable_requests_stay_local(pair: tuple[Scheduler, Scheduler]) -> None:
    a, _ = pair
    request = page(a.spider, "http://blog.example/a/", handle=lambda: None)
    assert a.enqueue_request(request)
    assert len(a.queue) == 0 and a.next_request() is request


def test_dupefilter_reports_redirects_and_keeps_the_set(pair: tuple[Scheduler, Scheduler]) -> None:
    a, _ = pair
    df = a.df
    assert isinstance(df, RedisDupeFilter)
    seen = Request("http://blog.example/a/", meta={"redirect_urls": ["http://blog.example/?p=1"]})
    assert not df.request_seen(seen) and df.request_seen(seen)
    df.log(seen, a.spider)
    assert a.crawler.stats.get_value("blogarchive/skipped/redirect_to_seen") == 1
    df.close("finished")
    assert a.server.exists(df.key)


def test_queue_requeue_keeps_scores(server: Any) -> None:
    spider = DemoSpider()
    queue = LeasedPriorityQueue(server, spider, "%(spider)s:requests")
    queue.push(Request("http://blog.example/x/", callback=spider.parse_page, priority=7))
    field, request = queue.pop_leased("leases:t", "1")
    assert request is not None and request.priority == 7 and field.startswith("1|")
    assert queue.requeue("leases:t") == 1
    assert server.zscore(queue.key, server.zrange(queue.key, 0, 0)[0]) == -7


def test_addon_switches_scale_out_on_only_when_asked() -> None:
    settings = Settings({"ITEM_PIPELINES": {"crawler.pipelines.ArchivePipeline": 500}})
    ScaleOut().update_settings(settings)
    assert settings.get("SCHEDULER") == "scrapy.core.scheduler.Scheduler"
    settings.set("SCALE_OUT_REDIS_URL", "redis://127.0.0.1:1/0", "cmdline")
    ScaleOut().update_settings(settings)
    assert settings.get("SCHEDULER") == "crawler.redis.Scheduler"
    assert settings.get("REDIS_URL") == "redis://127.0.0.1:1/0"
    assert settings.getdict("ITEM_PIPELINES")["crawler.redis.SharedArchiveFilter"] == 450
    settings.set("SCHEDULER", "my.Scheduler", "cmdline")  # -s still wins
    ScaleOut().update_settings(settings)
    assert settings.get("SCHEDULER") == "my.Scheduler"


def test_project_settings_list_the_addon() -> None:
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    assert "crawler.redis.ScaleOut" in settings.getdict("ADDONS")
    assert not settings.get("SCALE_OUT_REDIS_URL")


def test_a_record_is_archived_once_across_workers(server: Any, redis_url: str) -> None:
    filters = []
    for writer in ("w1", "w2"):
        crawler = get_crawler(DemoSpider, {"REDIS_URL": redis_url, "ARCHIVE_WRITER_ID": writer})
        crawler.spider = DemoSpider.from_crawler(crawler)
        pipeline = SharedArchiveFilter.from_crawler(crawler)
        pipeline.open_spider(crawler.spider)
        filters.append(pipeline)
    item = SimpleNamespace(
        url="http://blog.example/a/?utm_source=x", canonical_url="http://blog.example/a/"
    )
    assert filters[0].process_item(item) is item
    assert filters[1].process_item(item) is item  # not archived yet
    filters[0]._archived(item)
    with pytest.raises(DropItem):
        filters[1].process_item(item)
    assert server.sismember(crawl_keys("blogs")["archived"], url_key("http://blog.example/a/"))


def test_command_line(server: Any, redis_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", redis_url]) == 0
    assert '"queued": 0' in capsys.readouterr().out
    assert main(["reset", redis_url]) == 0
    assert main(["bogus"]) == 2

"""Issue 12, case 7: Redis outages are waited out and then end the crawl cleanly; a killed
crawl's keys cannot make the next one skip work; requests in Redis are data (JSON), never
code; password and TLS URLs work."""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from crawler import redis_codec
from crawler.auth import redact
from crawler.extract.types import Hints
from crawler.redis import crawl_keys
from schemas import PostRecord, content_hash
from tests.conftest import crawl_stats, run_crawl
from tests.httpserver import Route, SiteServer
from tests.unit.hostile import HTML, article, good_blog, text
from tests.unit.test_redis_adapter import _free_port, make_scheduler, page

redis = pytest.importorskip("redis")


def start_redis(port: int, *extra: str, url: str | None = None, **kw: Any) -> subprocess.Popen:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis.from_url(url or f"redis://127.0.0.1:{port}/0", **kw)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except (redis.ConnectionError, redis.AuthenticationError, OSError):
            time.sleep(0.05)
    proc.kill()
    pytest.fail("redis-server did not start")


@contextlib.contextmanager
def redis_at(port: int, *extra: str, url: str | None = None, **kw: Any) -> Iterator[str]:
    proc = start_redis(port, *extra, url=url, **kw)
    try:
        yield url or f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


def stop(scheduler: Any) -> None:
    if scheduler._heartbeat is not None and scheduler._heartbeat.running:
        scheduler._heartbeat.stop()


def test_requests_in_redis_are_json_and_keep_their_meta():
    with redis_at(_free_port()) as url:
        scheduler = make_scheduler(url, "w1")
        spider = scheduler.spider
        body = "Ein kurzer Text."
        record = PostRecord(
            url="http://blog.example/a/", canonical_url="http://blog.example/a/",
            site="http://blog.example/", kind="post", title="A", text=body, markdown=body,
            word_count=3, content_hash=content_hash(body),
            fetched_at=datetime.now(timezone.utc), status=200,
            extractor={"name": "blogarchive", "version": "test"},
        )  # fmt: skip
        hints = Hints(title="T", authors=["A"], lastmod="2024-01-02", sitemap_kind="post")
        meta = {"hints": hints, "record": record}
        assert scheduler.enqueue_request(page(spider, "http://blog.example/a/", **meta))
        [raw] = redis.Redis.from_url(url).zrange(crawl_keys("blogs")["queue"], 0, -1)
        assert raw.startswith(b"{")
        assert redis_codec.loads(raw)["url"] == "http://blog.example/a/"
        request = scheduler.next_request()
        assert request is not None and request.meta["hints"] == hints
        assert request.meta["record"] == record
        stop(scheduler)


def test_a_pickle_or_a_foreign_class_in_redis_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    with redis_at(_free_port()) as url:
        scheduler = make_scheduler(url, "w1")
        client = redis.Redis.from_url(url)
        queue = crawl_keys("blogs")["queue"]
        client.zadd(queue, {pickle.dumps(Evil()): 0})
        assert scheduler.next_request() is None
        forged = redis_codec.dumps(
            {"url": "http://blog.example/", "_class": "subprocess.Popen", "callback": None}
        )
        client.zadd(queue, {forged: 0})
        assert scheduler.next_request() is None
        stop(scheduler)
    assert not marker.exists()
    with pytest.raises(TypeError):
        redis_codec.dumps({"url": "http://x/", "meta": {"x": object()}})


def test_a_killed_crawls_keys_do_not_make_the_next_crawl_skip_work():
    with redis_at(_free_port()) as url:
        first = make_scheduler(url, "w1")
        spider = first.spider
        assert first.enqueue_request(page(spider, "http://blog.example/post/"))
        assert first.next_request() is not None  # fetched, then the worker is SIGKILLed:
        stop(first)
        client = redis.Redis.from_url(url)
        client.delete(first._heartbeat_key(first.worker))  # its heartbeat expires
        second = make_scheduler(url, "w2")  # the next crawl
        again = page(second.spider, "http://blog.example/post/")
        assert second.enqueue_request(again)  # a re-check is not filtered as "seen"
        urls = []
        while (request := second.next_request()) is not None:
            urls.append(request.url)
        assert urls.count("http://blog.example/post/") >= 1
        stop(second)


def test_an_outage_is_waited_out_then_the_crawl_closes_with_its_reason():
    port = _free_port()
    proc = start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    scheduler = make_scheduler(url, "w1", SCALE_OUT_REDIS_OUTAGE_MAX=1.5)
    closed: list[str] = []

    async def close_spider_async(reason: str) -> None:
        closed.append(reason)

    scheduler.crawler.engine = SimpleNamespace(
        scraper=scheduler.crawler.engine.scraper, close_spider_async=close_spider_async
    )
    spider = scheduler.spider
    try:
        proc.terminate()
        proc.wait(10)
        assert scheduler.next_request() is None  # no exception into the engine
        assert scheduler.enqueue_request(page(spider, "http://blog.example/kept/"))
        assert scheduler.has_pending_requests()  # the engine does not close meanwhile
        proc = start_redis(port)  # back within the window
        deadline = time.monotonic() + 5
        request = None
        while request is None and time.monotonic() < deadline:
            request = scheduler.next_request()
            time.sleep(0.1)
        assert request is not None and request.url == "http://blog.example/kept/"
        assert closed == []
        proc.terminate()
        proc.wait(10)
        deadline = time.monotonic() + 20
        while not closed and time.monotonic() < deadline:
            assert scheduler.next_request() is None
            time.sleep(0.2)
        assert closed == ["redis_unavailable"]
        scheduler.close("redis_unavailable")  # Redis still down: no exception, no hang
    finally:
        stop(scheduler)
        proc.kill()


def test_a_crawl_whose_redis_dies_ends_with_redis_unavailable(tmp_path):
    port = _free_port()
    proc = start_redis(port)
    routes = good_blog(6)
    for i in range(6):
        routes[f"/2024/01/post-{i}/"] = Route(
            200, article(f"Post {i}", text(i)).encode(), HTML, trickle=0.002
        )
    try:
        with SiteServer(routes) as site:
            killer_started = time.monotonic()

            def kill_when_crawling() -> None:
                while "/2024/01/post-0/" not in site.requests:
                    if time.monotonic() - killer_started > 60:
                        return
                    time.sleep(0.05)
                proc.kill()

            threading.Thread(target=kill_when_crawling, daemon=True).start()
            started = time.monotonic()
            crawl = run_crawl(
                [site.url],
                tmp_path / "archive",
                f"SCALE_OUT_REDIS_URL=redis://127.0.0.1:{port}/0",
                "SCALE_OUT_REDIS_OUTAGE_MAX=3",
                "SCALE_OUT_WORKER_TTL=3",
                "EXTRACT_WORKERS=1",
                timeout=90,
            )
            elapsed = time.monotonic() - started
    finally:
        proc.kill()
    assert crawl.returncode == 1, crawl.log[-3000:]
    assert crawl_stats(tmp_path / "archive")["finish_reason"] == "redis_unavailable"
    assert "Engine slot not assigned" not in crawl.log
    assert "Redis is unreachable" in crawl.log
    assert elapsed < 60


def test_password_url_works_and_is_never_logged():
    port = _free_port()
    url = f"redis://:s3cret-pw@127.0.0.1:{port}/0"
    with redis_at(port, "--requirepass", "s3cret-pw", url=url):
        scheduler = make_scheduler(url, "w1")
        assert scheduler.enqueue_request(page(scheduler.spider, "http://blog.example/a/"))
        assert scheduler.next_request() is not None
        stop(scheduler)
    assert "s3cret-pw" not in redact(f"{{'SCALE_OUT_REDIS_URL': '{url}'}}")


def test_tls_url_works(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    port = _free_port()
    url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={cert}"
    with redis_at(
        0, "--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
        "--tls-auth-clients", "no", url=url,
    ):  # fmt: skip
        scheduler = make_scheduler(url, "w1")
        assert scheduler.enqueue_request(page(scheduler.spider, "http://blog.example/a/"))
        request = scheduler.next_request()
        assert request is not None and request.url == "http://blog.example/a/"
        stop(scheduler)

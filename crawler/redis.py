"""Scale-out on Redis: several crawler processes share one frontier and one duplicate filter.

Turn it on with one setting, the same in every process (README: "Several machines")::

    scrapy crawl blogs -a site=... -s ARCHIVE_WRITER_ID=w1 -s SCALE_OUT_REDIS_URL=redis://host:6379/0

The `ScaleOut` add-on (listed in ``ADDONS`` in crawler/settings.py) then sets
``SCHEDULER = "crawler.redis.Scheduler"`` and ``REDIS_URL``, and adds `SharedArchiveFilter` to the
item pipelines. Without ``SCALE_OUT_REDIS_URL`` it does nothing.

What comes from scrapy-redis 0.9.1, and what this module adds
------------------------------------------------------------
scrapy-redis's `Scheduler`, `RFPDupeFilter` and `PriorityQueue` work with Scrapy 2.19 as they
are (requests as `request.to_dict()`, serialized by `crawler.redis_codec` as JSON, which keeps
our meta: the `Hints` dataclass, a `PostRecord`).
Its `RedisSpider` does not (it predates the async ``start()``): we don't use it. What it lacks
for several processes, added here on top of its classes:

* **Process-local discovery.** The spider counts its own discovery requests per site
  (``SiteState.pending_discovery``) to know when discovery is over (link-following fallback,
  the gone-post check). A discovery response handled by another process would break those
  counters, so requests whose callback is in the spider's ``process_local_callbacks``
  (robots.txt, sitemaps, feeds, the home page) stay in this process's memory; every process
  runs the (small) discovery of every site itself. Everything else (posts, pages, listings,
  comment feeds) goes through the shared Redis queue and duplicate filter, so each URL is
  fetched once by one of the processes, whichever discovered it first.
* **Leases.** A request popped from the shared queue is moved, atomically, into this worker's
  lease hash, and removed from it only when its callback or errback, the items it yielded
  (archive written) and the requests it yielded (pushed to Redis) are done. A worker that
  dies (SIGKILL, power cut) stops refreshing its heartbeat key; after ``SCALE_OUT_WORKER_TTL``
  seconds any other worker puts its leased requests back into the queue. A redirect or retry
  of a leased request takes the lease over. A worker closed cleanly (Ctrl-C) puts its own
  leases back at once.
* **Ending together.** A worker that runs out of requests stays open while any other worker
  (alive, or dead but not yet reaped) holds leases: their callbacks may still add requests.
  The last worker to leave a finished crawl deletes the crawl's keys, so the next crawl starts
  with an empty duplicate filter; a crawl whose workers were all killed leaves its keys, and
  the next processes resume it. ``SCHEDULER_PERSIST = True`` keeps the keys in any case;
  ``python -m crawler.redis reset REDIS_URL`` deletes them.
* **A record once across writers.** `SharedArchiveFilter` drops a record whose canonical URL
  another worker archived in this crawl (an alias URL fetched by another process, a request
  re-run after its worker died between writing the record and releasing the lease).

Requests travel as JSON (`crawler.redis_codec`, not scrapy-redis's pickle): whoever can write
to Redis can queue URLs, not run code in the workers. An unreachable Redis is waited out
(``SCALE_OUT_REDIS_OUTAGE_MAX`` seconds, probing with backoff; new requests wait in the process),
then the crawl ends with the finish reason ``redis_unavailable``.
"""

from __future__ import annotations

import contextlib
import heapq
import importlib
import itertools
import logging
import os
import pickle
import socket
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, DropItem
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from twisted.internet import task
from twisted.internet.defer import Deferred

from crawler.dupefilter import log_filtered_redirect
from crawler.urls import url_key

try:
    from redis import Redis
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError
    from scrapy_redis.connection import get_redis_from_settings
    from scrapy_redis.dupefilter import RFPDupeFilter as _RedisRFPDupeFilter
    from scrapy_redis.queue import PriorityQueue as _RedisPriorityQueue
    from scrapy_redis.scheduler import Scheduler as _RedisScheduler
except ImportError as exc:  # the add-on stays a no-op without scale-out installed
    _MISSING: ImportError | None = exc
    Redis = _RedisRFPDupeFilter = _RedisPriorityQueue = _RedisScheduler = object  # type: ignore[assignment,misc]
    _RedisConnectionError = _RedisTimeoutError = ConnectionError  # type: ignore[assignment,misc]
else:
    _MISSING = None

#: what an unreachable Redis raises (down, restarting, network cut)
REDIS_DOWN: tuple[type[BaseException], ...] = (_RedisConnectionError, _RedisTimeoutError, OSError)
DEFAULT_OUTAGE_MAX = 120.0

logger = logging.getLogger(__name__)

# scrapy-redis's default keys (scrapy_redis.defaults)
SCHEDULER_QUEUE_KEY = "%(spider)s:requests"
SCHEDULER_DUPEFILTER_KEY = "%(spider)s:dupefilter"

LEASE_META = "_scale_out_lease"  # request.meta key of a popped request's lease (never stored)
DEFAULT_WORKER_TTL = 30.0

# Pop the best request and lease it to this worker, atomically.
# KEYS[1] queue (sorted set), KEYS[2] this worker's leases (hash); ARGV[1] lease id.
_POP = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
local field = ARGV[1] .. '|' .. top[2]
redis.call('HSET', KEYS[2], field, top[1])
return {field, top[1]}
"""

# Put every leased request of a worker back into the queue (score after the last '|').
# KEYS[1] the worker's leases, KEYS[2] queue. Returns how many.
_REQUEUE = """
local items = redis.call('HGETALL', KEYS[1])
for i = 1, #items, 2 do
  local score = tonumber(string.match(items[i], '|([^|]*)$')) or 0
  redis.call('ZADD', KEYS[2], score, items[i + 1])
end
redis.call('DEL', KEYS[1])
return #items / 2
"""

# Leave the crawl; the last worker of a finished crawl deletes its keys.
# KEYS[1] workers (set), KEYS[2] heartbeat, KEYS[3] leases, KEYS[4] queue, KEYS[5..] crawl keys;
# ARGV[1] worker id, ARGV[2] '1' when the keys may be deleted.
_LEAVE = """
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
if ARGV[2] == '1' and redis.call('SCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[4]) == 0
   and redis.call('EXISTS', KEYS[3]) == 0 then
  for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
  return 1
end
return 0
"""


def crawl_keys(spider_name: str, settings: BaseSettings | None = None) -> dict[str, str]:
    """The Redis keys of one spider's shared crawl (scrapy-redis's key settings apply)."""
    get = settings.get if settings is not None else (lambda _name, default: default)
    values = {"spider": spider_name}
    queue = get("SCHEDULER_QUEUE_KEY", SCHEDULER_QUEUE_KEY) % values
    return {
        "queue": queue,
        "dupefilter": get("SCHEDULER_DUPEFILTER_KEY", SCHEDULER_DUPEFILTER_KEY) % values,
        "archived": f"{spider_name}:archived",
        "workers": f"{spider_name}:workers",
        "heartbeat": f"{spider_name}:heartbeat:",  # + worker id
        "leases": f"{spider_name}:leases:",  # + worker id
    }


def worker_id(settings: BaseSettings) -> str:
    """Unique per process: the archive writer id, the host and the pid."""
    return f"{settings.get('ARCHIVE_WRITER_ID', 'main')}@{socket.gethostname()}:{os.getpid()}"


class ScaleOut:
    """Add-on: with ``SCALE_OUT_REDIS_URL`` set, the crawl shares its frontier through Redis."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = settings.get("SCALE_OUT_REDIS_URL")
        if not url:
            return
        if _MISSING is not None:
            raise RuntimeError(
                f"SCALE_OUT_REDIS_URL needs scrapy-redis: pip install scrapy-redis ({_MISSING})"
            )
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("SCHEDULER", "crawler.redis.Scheduler", priority="addon")
        if not settings.get("SCHEDULER_SERIALIZER"):
            settings.set("SCHEDULER_SERIALIZER", "crawler.redis_codec", priority="addon")
        settings["ITEM_PIPELINES"].set("crawler.redis.SharedArchiveFilter", 450, "addon")


class RedisDupeFilter(_RedisRFPDupeFilter):
    """scrapy-redis's shared fingerprint set, logging filtered redirects like
    `crawler.dupefilter.RedirectAwareDupeFilter`. Never deletes the shared set on close."""

    def log(self, request: Request, spider: Spider) -> None:
        log_filtered_redirect(request, spider.crawler.stats)
        super().log(request, spider)

    def close(self, reason: str = "") -> None:
        """The set is shared with the other workers: `Scheduler` decides when it goes."""


class LeasedPriorityQueue(_RedisPriorityQueue):
    """scrapy-redis's priority queue (a sorted set) with an atomic pop into a lease hash."""

    def __init__(self, server: Redis, spider: Spider, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self._pop_script = server.register_script(_POP)
        self._requeue_script = server.register_script(_REQUEUE)

    def pop_leased(self, leases_key: str, lease_id: str) -> tuple[str, Request | None] | None:
        """(lease field, request) of the best request, now leased; None if the queue is empty.
        The request is None when it cannot be decoded (the lease is then the caller's to drop)."""
        found = self._pop_script(keys=[self.key, leases_key], args=[lease_id])
        if not found:
            return None
        field, data = found
        field = field.decode() if isinstance(field, bytes) else str(field)
        try:
            request = self._decode_request(data)
        except Exception:
            logger.exception("cannot decode a request from %s: dropped", self.key)
            return field, None
        return field, request

    def requeue(self, leases_key: str) -> int:
        return int(self._requeue_script(keys=[leases_key, self.key]))


class Scheduler(_RedisScheduler):
    """scrapy-redis's scheduler with process-local discovery, leases and a shared ending."""

    def __init__(
        self,
        server: Redis,
        *,
        crawler: Crawler,
        persist: bool = False,
        worker_ttl: float = DEFAULT_WORKER_TTL,
        outage_max: float = DEFAULT_OUTAGE_MAX,
        queue_cls: str = "crawler.redis.LeasedPriorityQueue",
        dupefilter_cls: str = "crawler.redis.RedisDupeFilter",
        serializer: Any = None,
    ) -> None:
        settings = crawler.settings
        keys = crawl_keys("%(spider)s", settings)
        super().__init__(
            server,
            persist=persist,
            queue_key=keys["queue"],
            queue_cls=queue_cls,
            dupefilter_key=keys["dupefilter"],
            dupefilter_cls=dupefilter_cls,
            serializer=serializer,
        )
        self.crawler = crawler
        self.stats = crawler.stats
        self.worker = worker_id(settings)
        self.worker_ttl = worker_ttl
        self.keys: dict[str, str] = {}
        self._local: list[tuple[int, int, Request]] = []  # (-priority, order, request)
        self._order = itertools.count()
        self._lease_ids = itertools.count(1)
        self._local_callbacks: frozenset[str] = frozenset()
        self._heartbeat: task.LoopingCall | None = None
        self._waiting_logged = 0.0
        self._held: dict[str, str] = {}  # lease -> URL of a page the spider holds back
        self.outage_max = outage_max
        self._down_since: float | None = None  # Redis unreachable since (monotonic)
        self._probe_at = 0.0
        self._probe_wait = 0.5
        self._unsent: list[Request] = []  # requests to share once Redis is back
        self._unreleased: list[str] = []  # leases to release once Redis is back
        self._closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Scheduler:
        settings = crawler.settings
        server = get_redis_from_settings(settings)
        server.ping()
        dupefilter_cls = settings.get("DUPEFILTER_CLASS")
        if not (dupefilter_cls and hasattr(load_object(dupefilter_cls), "from_spider")):
            dupefilter_cls = "crawler.redis.RedisDupeFilter"  # ours is process-local
        serializer = settings.get("SCHEDULER_SERIALIZER") or "crawler.redis_codec"
        return cls(
            server,
            crawler=crawler,
            persist=settings.getbool("SCHEDULER_PERSIST"),
            worker_ttl=settings.getfloat("SCALE_OUT_WORKER_TTL", DEFAULT_WORKER_TTL),
            outage_max=settings.getfloat("SCALE_OUT_REDIS_OUTAGE_MAX", DEFAULT_OUTAGE_MAX),
            queue_cls=settings.get("SCHEDULER_QUEUE_CLASS") or "crawler.redis.LeasedPriorityQueue",
            dupefilter_cls=dupefilter_cls,
            serializer=importlib.import_module(serializer) if serializer else None,
        )

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Scheduler:  # pragma: no cover
        raise TypeError("crawler.redis.Scheduler needs a crawler: use from_crawler")

    # -- keys and workers ----------------------------------------------------------------

    def _leases(self, worker: str) -> str:
        return self.keys["leases"] + worker

    def _heartbeat_key(self, worker: str) -> str:
        return self.keys["heartbeat"] + worker

    def _beat(self) -> None:
        if not self.available():
            return
        try:
            self.server.set(self._heartbeat_key(self.worker), str(time.time()),
                            px=int(self.worker_ttl * 1000))  # fmt: skip
            self.server.sadd(self.keys["workers"], self.worker)
            self.reap_dead_workers()
        except REDIS_DOWN as exc:
            self._redis_down(exc)
        except Exception:
            logger.exception("scale-out heartbeat failed")

    # -- Redis outages -------------------------------------------------------------------

    def _redis_down(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._probe_wait = 0.5
            self._probe_at = self._down_since + self._probe_wait
            logger.warning(
                "Redis is unreachable (%s): waiting for it, up to %ss "
                "(SCALE_OUT_REDIS_OUTAGE_MAX); new requests are kept here meanwhile",
                exc, self.outage_max,
            )  # fmt: skip
            self.stats.inc_value("scheduler/scale_out/redis_outages")

    def available(self) -> bool:
        """True when Redis answers. During an outage, probes it with a growing wait (0.5 s
        doubling to 10 s); once it is back, what waited is shared; after `outage_max`
        seconds the crawl is closed with the finish reason `redis_unavailable`."""
        if self._down_since is None:
            return True
        now = time.monotonic()
        if now < self._probe_at:
            return False
        try:
            self.server.ping()
        except REDIS_DOWN:
            self._probe_wait = min(self._probe_wait * 2, 10.0)
            self._probe_at = now + self._probe_wait
            if now - self._down_since > self.outage_max and not self._closing:
                self._closing = True
                logger.error(
                    "Redis unreachable for %.0fs (SCALE_OUT_REDIS_OUTAGE_MAX=%s): closing the "
                    "crawl (redis_unavailable); its leased requests go back to the queue when "
                    "Redis returns and another worker reaps them",
                    now - self._down_since, self.outage_max,
                )  # fmt: skip
                engine = self.crawler.engine
                if engine is not None:
                    deferred_from_coro(engine.close_spider_async(reason="redis_unavailable"))
            return False
        logger.info("Redis is back after %.1fs", now - self._down_since)
        self._down_since = None
        unsent, self._unsent = self._unsent, []
        unreleased, self._unreleased = self._unreleased, []
        for lease in unreleased:
            self.release(lease)
        for request in unsent:
            self.enqueue_request(request)
        return self._down_since is None

    def reap_dead_workers(self) -> int:
        """Requeue the leased requests of workers whose heartbeat expired; returns how many."""
        total = 0
        for raw in self.server.smembers(self.keys["workers"]):
            other = raw.decode() if isinstance(raw, bytes) else str(raw)
            if other == self.worker or self.server.exists(self._heartbeat_key(other)):
                continue
            count = self.queue.requeue(self._leases(other))
            self.server.srem(self.keys["workers"], other)
            total += count
            logger.warning(
                "worker %s is gone (no heartbeat for %ss): %d of its requests put back",
                other, self.worker_ttl, count,
            )  # fmt: skip
            self.stats.inc_value("scheduler/scale_out/requeued", count)
        return total

    def busy_workers(self) -> list[str]:
        """Other workers (alive, or dead and not yet reaped) that hold leased requests."""
        busy = []
        for raw in self.server.smembers(self.keys["workers"]):
            other = raw.decode() if isinstance(raw, bytes) else str(raw)
            if other != self.worker and self.server.hlen(self._leases(other)):
                busy.append(other)
        return sorted(busy)

    # -- Scrapy's scheduler interface ----------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.keys = crawl_keys(spider.name, self.crawler.settings)
        self._local_callbacks = frozenset(getattr(spider, "process_local_callbacks", ()))
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=self.queue_key, serializer=self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self._beat()
        self._forget_dead_crawl()
        if len(self.queue):
            logger.info("resuming a shared crawl: %d requests queued", len(self.queue))
        logger.info(
            "scale-out: worker %s on %s (queue %s)",
            self.worker, self.server.connection_pool.connection_kwargs.get("host"), self.queue.key,
        )  # fmt: skip
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(max(self.worker_ttl / 6, 0.5), now=False)
        self.crawler.signals.connect(self._on_idle, signal=signals.spider_idle)
        _hook_scrape_done(self.crawler, self._scrape_done)

    def _forget_dead_crawl(self) -> None:
        """A crawl whose workers are all gone (killed) leaves its keys. Its queued and leased
        requests are kept (the dead workers' leases were just put back), but its duplicate
        filter and archive marks are not: they would make this crawl skip every URL the
        dead one had seen, re-checks included."""
        others = [
            raw.decode() if isinstance(raw, bytes) else str(raw)
            for raw in self.server.smembers(self.keys["workers"])
        ]
        alive = [
            w for w in others if w != self.worker and self.server.exists(self._heartbeat_key(w))
        ]
        if alive:
            return
        stale = self.server.scard(self.df.key) + self.server.scard(self.keys["archived"])
        if stale:
            self.server.delete(self.df.key, self.keys["archived"])
            logger.info(
                "no live worker of an earlier crawl: its duplicate filter and archive marks "
                "(%d entries) are dropped, its %d queued requests kept",
                stale, len(self.queue),
            )  # fmt: skip

    def close(self, reason: str) -> None:
        if not self.keys:  # never opened
            return
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        if not self.available():
            logger.warning(
                "Redis is unreachable at the end: %d requests kept here are lost to the "
                "shared crawl; this worker's leases go back to the queue when another worker "
                "reaps them", len(self._unsent),
            )  # fmt: skip
            return
        try:
            self._leave(reason)
        except REDIS_DOWN as exc:
            logger.warning("Redis is unreachable at the end (%s): the crawl keys stay", exc)

    def _leave(self, reason: str) -> None:
        put_back = self.queue.requeue(self._leases(self.worker))
        if put_back:
            logger.info("put %d unfinished requests back into the shared queue", put_back)
        if self._local:
            logger.info("%d discovery requests of this process dropped", len(self._local))
        flush = reason == "finished" and not self.persist
        keys = [
            self.keys["workers"],
            self._heartbeat_key(self.worker),
            self._leases(self.worker),
            self.queue.key,
            self.df.key,
            self.keys["archived"],
        ]
        if self.server.eval(_LEAVE, len(keys), *keys, self.worker, "1" if flush else "0"):
            logger.info("last worker of the finished crawl: shared crawl keys deleted")

    def _queued(self) -> int:
        """Requests in the shared queue (0 while Redis is unreachable)."""
        if not self.available():
            return 0
        try:
            return len(self.queue)
        except REDIS_DOWN as exc:
            self._redis_down(exc)
            return 0

    def __len__(self) -> int:
        return len(self._local) + len(self._unsent) + self._queued()

    def has_pending_requests(self) -> bool:
        if self._local or self._queued() > 0:
            return True
        return self._down_since is not None and not self._closing

    def is_local(self, request: Request) -> bool:
        return getattr(request.callback, "__name__", None) in self._local_callbacks

    def enqueue_request(self, request: Request) -> bool:
        lease = request.meta.pop(LEASE_META, None)  # a redirect or retry of a leased request
        try:
            if self.is_local(request):
                if not request.dont_filter and self.available():
                    try:
                        self.df.request_seen(request)  # recorded for the others, never filtered
                    except REDIS_DOWN as exc:
                        self._redis_down(exc)
                self._push_local(request)
                return True
            if not self.available():
                self._unsent.append(request)
                return True
            try:
                if not request.dont_filter and self.df.request_seen(request):
                    self.df.log(request, self.spider)
                    return False
                self.queue.push(request)
            except REDIS_DOWN as exc:
                self._redis_down(exc)
                self._unsent.append(request)
                return True
            except (pickle.PicklingError, TypeError, AttributeError, ValueError) as exc:
                logger.warning("cannot share %s (%s): kept in this process", request, exc)
                self._push_local(request)
                return True
            self.stats.inc_value("scheduler/enqueued/redis")
            return True
        finally:
            if lease:
                self.release(lease)

    def _push_local(self, request: Request) -> None:
        heapq.heappush(self._local, (-request.priority, next(self._order), request))
        self.stats.inc_value("scheduler/enqueued/local")

    def next_request(self) -> Request | None:
        if self._local:
            self.stats.inc_value("scheduler/dequeued/local")
            return heapq.heappop(self._local)[2]
        if not self.available():
            return None
        lease_id = f"{next(self._lease_ids)}"
        try:
            popped = self.queue.pop_leased(self._leases(self.worker), lease_id)
        except REDIS_DOWN as exc:
            self._redis_down(exc)
            return None
        if popped is None:
            return None
        field, request = popped
        if request is None:
            self.release(field)
            return None
        request.meta[LEASE_META] = field
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    # -- leases and ending ---------------------------------------------------------------

    def release(self, lease: str) -> None:
        if self.available():
            try:
                self.server.hdel(self._leases(self.worker), lease)
                return
            except REDIS_DOWN as exc:
                self._redis_down(exc)
        self._unreleased.append(lease)

    def _scrape_done(self, request: Request, result: Any = None) -> None:
        """A response's callback and its outputs are done: release its lease, unless the
        spider holds the page back (`held_urls`, the profile warm-up): then the lease is kept
        until the page's record is out, so a worker that dies meanwhile loses nothing."""
        lease = request.meta.pop(LEASE_META, None)
        held_urls = getattr(self.spider, "held_urls", None)
        held = held_urls() if held_urls is not None else set()
        if lease:
            url = getattr(result, "url", None) or request.url
            if url in held:
                self._held[lease] = url
            else:
                self.release(lease)
        for parked, url in list(self._held.items()):
            if url not in held:
                del self._held[parked]
                self.release(parked)

    def _on_idle(self) -> None:
        if self._closing:
            return
        if not self.available():
            raise DontCloseSpider  # waiting for Redis (see `available`)
        try:
            self.reap_dead_workers()
            if len(self.queue):
                raise DontCloseSpider
            busy = self.busy_workers()
        except REDIS_DOWN as exc:
            self._redis_down(exc)
            raise DontCloseSpider from None
        if busy:
            if time.monotonic() - self._waiting_logged > 30:
                logger.info("no request left here; waiting for %s", ", ".join(busy))
                self._waiting_logged = time.monotonic()
            raise DontCloseSpider


def _hook_scrape_done(crawler: Crawler, done: Callable[[Request, Any], None]) -> None:
    """Call `done(request)` once a response's (or failure's) callback, its items and its requests
    are processed. Scrapy has no signal for that moment; `Scraper.enqueue_scrape` (awaited by
    the engine for every downloaded response or download failure) ends exactly then."""
    assert crawler.engine is not None
    scraper = crawler.engine.scraper
    original = scraper.enqueue_scrape

    def enqueue_scrape(result: Any, request: Request) -> Any:
        try:
            out = original(result, request)
        except BaseException:
            done(request, result)
            raise
        if isinstance(out, Deferred):
            return out.addBoth(_passthrough(done, request, result))

        async def wrapped() -> Any:
            try:
                return await out
            finally:
                done(request, result)

        return wrapped()

    scraper.enqueue_scrape = enqueue_scrape  # type: ignore[method-assign]


def _passthrough(
    done: Callable[[Request, Any], None], request: Request, result: Any
) -> Callable[[Any], Any]:
    def callback(outcome: Any) -> Any:
        done(request, result)
        return outcome

    return callback


class SharedArchiveFilter:
    """Item pipeline (before `ArchivePipeline`): drops a record whose canonical URL another
    worker of the shared crawl has archived already; marks it once it is archived."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.server = get_redis_from_settings(crawler.settings)
        self.key = ""
        crawler.signals.connect(self._archived, signal=signals.item_scraped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedArchiveFilter:
        return cls(crawler)

    def open_spider(self, spider: Spider | None = None) -> None:
        spider = spider or self.crawler.spider
        assert spider is not None
        self.key = crawl_keys(spider.name, self.crawler.settings)["archived"]

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        canonical = getattr(item, "canonical_url", None)
        try:
            seen = bool(canonical) and self.server.sismember(self.key, url_key(canonical))
        except REDIS_DOWN:  # archived here: at worst the same version twice, counted once
            seen = False
        if seen:
            self.crawler.stats.inc_value("blogarchive/skipped/archived_by_other_worker")
            raise DropItem(f"{item.url}: archived by another worker in this crawl", "INFO")
        return item

    def _archived(self, item: Any, **_: Any) -> None:
        canonical = getattr(item, "canonical_url", None)
        if canonical and self.key:
            with contextlib.suppress(*REDIS_DOWN):
                self.server.sadd(self.key, url_key(canonical))


# -- command line ----------------------------------------------------------------------------


def status(server: Redis, spider: str = "blogs") -> dict[str, Any]:
    keys = crawl_keys(spider)
    workers = {}
    for raw in sorted(server.smembers(keys["workers"])):
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        workers[name] = {
            "alive": bool(server.exists(keys["heartbeat"] + name)),
            "leased": server.hlen(keys["leases"] + name),
        }
    return {
        "queued": server.zcard(keys["queue"]),
        "seen": server.scard(keys["dupefilter"]),
        "archived": server.scard(keys["archived"]),
        "workers": workers,
    }


def reset(server: Redis, spider: str = "blogs") -> int:
    """Delete a shared crawl's keys (do it only when none of its workers runs)."""
    keys = crawl_keys(spider)
    names: list[Any] = [keys["queue"], keys["dupefilter"], keys["archived"], keys["workers"]]
    for prefix in (keys["heartbeat"], keys["leases"]):
        names += list(server.scan_iter(match=prefix + "*"))
    return int(server.delete(*names))


def main(argv: Iterable[str] | None = None) -> int:
    """``python -m crawler.redis status|reset REDIS_URL [SPIDER]``"""
    import json

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 3) or args[0] not in ("status", "reset"):
        print("usage: python -m crawler.redis status|reset REDIS_URL [SPIDER]", file=sys.stderr)
        return 2
    server = Redis.from_url(args[1])
    spider = args[2] if len(args) == 3 else "blogs"
    if args[0] == "status":
        print(json.dumps(status(server, spider), indent=2))
    else:
        print(f"deleted {reset(server, spider)} keys")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

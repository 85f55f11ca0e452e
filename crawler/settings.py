"""Scrapy settings of blogarchive. Every feature is a component switched on or off here.

Override any of them on the command line (`-s NAME=VALUE`) or in a project of your own.
"""

from schemas.version import VERSION

BOT_NAME = "blogarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- the archive --------------------------------------------------------------------------
ARCHIVE_DIR = "archive-data"  # where records go (see README: "The archive")
ARCHIVE_COMPRESS = False  # gzip the JSONL files
ARCHIVE_WRITER_ID = "main"  # one writer per process; several crawlers share a directory
ARCHIVE_FSYNC_EVERY = 50  # records per fsync; at most this many are lost by a power cut
# Raw capture: every fetched response into ARCHIVE_DIR/warc/<writer-id>/*.warc.gz (archive/warc.py)
WARC_ENABLED = True  # False: records only, no WARC files (then `blogarchive reextract` can't work)
WARC_COMPRESS_LEVEL = 6  # zlib level, 1 (fast) to 9 (warcio's default; costs the crawl most)
WARC_WRITE_THREAD = True  # compress and write WARC records on their own thread, off the reactor
WARC_MAX_FILE_SIZE = 1024**3  # bytes; a new WARC file is started once the current one is larger

# -- extraction ---------------------------------------------------------------------------
EXTRACTION_ENABLED = True  # False: discover and fetch only (the fetch-only benchmark)
EXTRACT_WORKERS = None  # worker processes for extraction; None: one per CPU; 0: in-process
EXTRACT_MAX_TASKS_PER_WORKER = 2000  # pages a worker before it is replaced (bounds caches)
EXTRACT_PREFETCH = 2  # pages handed to a worker ahead (they wait in its pipe)
FEED_MAX_PAGES = 1000  # how deep to page through ?paged=N / rel=next feeds

# -- re-crawls ----------------------------------------------------------------------------
STATE_ENABLED = True  # keep crawl state (validators, hashes, versions) for incremental crawls
STATE_PATH = None  # default: ARCHIVE_DIR/state-<ARCHIVE_WRITER_ID>.sqlite
RECHECK_ALL = False  # True: fetch every known post again, whatever the signals say
RECHECK_FACTOR = 0.1  # an unchanged post is re-checked after this share of its age...
RECHECK_MIN_INTERVAL = 3600.0  # ...but not sooner than this (seconds)...
RECHECK_MAX_INTERVAL = 30 * 86400.0  # ...and not later than this

# -- scale-out (README: "Several machines"; crawler/redis.py) -------------------------------
SCALE_OUT_REDIS_URL = None  # redis://host:6379/0: share the frontier and dupefilter via Redis
SCALE_OUT_WORKER_TTL = 30.0  # seconds without heartbeat before a worker's requests are re-run
ADDONS = {"crawler.redis.ScaleOut": 0}  # does nothing unless SCALE_OUT_REDIS_URL is set

# -- politeness ---------------------------------------------------------------------------
CONTACT = ""  # your URL or e-mail: appended to the User-Agent so site owners can reach you
USER_AGENT = f"blogarchive/{VERSION}"
ROBOTSTXT_OBEY = True
CRAWL_DELAY_ENABLED = True  # honour robots.txt Crawl-delay (Scrapy itself ignores it)
CRAWL_DELAY_MAX = 60.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy starts CONCURRENT_ITEMS asyncio tasks for the output of every response (100 by default).
# Our pipelines are synchronous, so more than a few buys nothing; 100 cost the reactor thread
# about 1.6 ms of CPU a page (benchmarks/README.md, "What the profile showed").
CONCURRENT_ITEMS = 4
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# -- bad input ----------------------------------------------------------------------------
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # larger responses are dropped, with a log line
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60
REDIRECT_MAX_TIMES = 10
RETRY_TIMES = 2

# -- components ---------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.CrawlDelayMiddleware": 110,
    # process_response runs from high to low numbers. 585 is below HttpCompressionMiddleware
    # (590): bodies are stored decoded, as the spider gets them; retried 5xx are seen before
    # RetryMiddleware (550). RedirectMiddleware (600) swallows 3xx before 590, so they are
    # stored by a second middleware at 605. Both share one writer; nothing is stored twice.
    "crawler.warc.WarcCaptureMiddleware": 585,
    "crawler.warc.WarcRedirectCaptureMiddleware": 605,
}
ITEM_PIPELINES = {
    "crawler.pipelines.VersionPipeline": 400,
    "crawler.pipelines.ArchivePipeline": 500,
}
EXTENSIONS = {
    "crawler.state.CrawlStateExtension": 100,
    "crawler.extensions.CrawlProgress": 500,
    "scrapy.extensions.logstats.LogStats": None,  # CrawlProgress says more
}
PROGRESS_INTERVAL = 30.0  # seconds between progress lines; 0 turns them off
DUPEFILTER_CLASS = "crawler.dupefilter.RedirectAwareDupeFilter"

# Scrapy's own defaults, stated so that upgrades do not change them under us.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening port on a scheduled crawl
LOG_LEVEL = "INFO"
# The startup banner's "Versions:" line: ours and the extraction stack first, then Scrapy's list.
LOG_VERSIONS = [
    "blogarchive",
    "trafilatura",
    "pydantic",
    "warcio",
    "lxml",
    "libxml2",
    "parsel",
    "w3lib",
    "Twisted",
    "Python",
    "pyOpenSSL",
    "cryptography",
    "Platform",
]
STATS_FILE = None  # path: the final crawl stats as JSON, for monitoring and tests

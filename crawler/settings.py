"""Scrapy settings of blogarchive. Every feature is a component switched on or off here.

Override any of them on the command line (`-s NAME=VALUE`) or in a project of your own.
"""

from schemas.version import VERSION

BOT_NAME = "blogarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"  # `scrapy crawl` with a meaningful exit status

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
SCALE_OUT_REDIS_OUTAGE_MAX = 120.0  # seconds Redis may be unreachable; then redis_unavailable
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

# -- safety on the open web (README: "Safety"; crawler/budget.py, crawler/scope.py) ---------
BUDGET_ENABLED = True  # per-blog budgets, so a spider trap ends by itself
BUDGET_MAX_REQUESTS = 50_000  # requests per blog (pages, feeds, sitemaps); then it is stopped
BUDGET_MAX_DEPTH = 250  # link hops from a start page (sitemap and feed entries are exempt)
BUDGET_MAX_URL_LENGTH = 2048  # longer link-followed URLs are not followed
BUDGET_MAX_PATH_SEGMENTS = 24  # /a/b/c/... deeper than this is not followed
BUDGET_MAX_REPEATED_SEGMENTS = 3  # a path segment repeated more often (/a/b/a/b/a/b/a/)
BUDGET_MAX_QUERY_VARIANTS = 200  # query strings per path and parameter names (?id=N, ?month=N)
MEMUSAGE_LIMIT_MB = 4096  # last resort: the crawl stops (memusage_exceeded) above this RSS
SCOPE_ENABLED = True  # fetch nothing off a blog, after redirects, refreshes and feed hops
SCOPE_ALLOW_PRIVATE_ADDRESSES = False  # True: let any host resolve to private addresses
TWISTED_DNS_RESOLVER = "crawler.scope.GuardedResolver"  # checks the resolved address (SSRF)
ROBOTSTXT_TIMEOUT = 15.0  # seconds for robots.txt (Scrapy's and ours); no retry
PROFILE_WARMUP_MAX_WAIT = 20.0  # seconds pages wait for the site profile, then go out anyway

# -- components ---------------------------------------------------------------------------
SPIDER_MIDDLEWARES = {
    "crawler.budget.BlogBudgetMiddleware": 850,  # below DepthMiddleware (900): sees the depth
}
DOWNLOADER_MIDDLEWARES = {
    "crawler.scope.ScopeMiddleware": 40,  # first: an off-blog request is never sent
    "crawler.safety.RobotsTimeoutMiddleware": 101,  # after RobotsTxtMiddleware (100)
    "crawler.auth.BasicAuthMiddleware": 301,  # user:password@ of a start URL, its host only
    "crawler.safety.EncodingCheckMiddleware": 580,  # after decompression (590)
    "crawler.safety.BodyCheckMiddleware": 595,  # before decompression (590)
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
    "crawler.safety.WarmupDeadline": 510,
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

"""Scrapy settings for exitscrape. Every setting that differs from Scrapy's default says why.

Any of them can be overridden per run: ``exitscrape crawl -s NAME=VALUE`` or
``scrapy crawl exit_practices -s NAME=VALUE``.
"""

from __future__ import annotations

import os

from exitscrape import __version__

BOT_NAME = "exitscrape"
SPIDER_MODULES = ["exitscrape.spiders"]
NEWSPIDER_MODULE = "exitscrape.spiders"

# Name ourselves, so the site's owners can tell who is crawling and why.
USER_AGENT = (
    f"exitscrape/{__version__} (open research dataset of exit programmes; "
    "polite crawler: one request at a time)"
)

# Politeness towards a small non-profit site: one request at a time, a delay between them,
# and AutoThrottle to back off further when the server slows down. The crawl stays on one site,
# so the global cap is the per-site cap: CONCURRENT_REQUESTS_PER_DOMAIN keeps Scrapy's default
# (8), and `-s CONCURRENT_REQUESTS=16` alone lifts the cap as it would for any Scrapy spider.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 1
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# A page that hangs or never ends must not stall a run: give up sooner than the 180 s default
# and refuse bodies far larger than any page of the site (Scrapy's default cap is 1 GiB).
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

# Nothing needs a telnet console or Scrapy's remote-control server on a scheduled crawler:
# they would only open ports (and the latter writes job files into the home directory).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Downloader middlewares: record redirects that leave the site as failures (Scrapy drops them
# silently); our HTTP cache middleware replaces Scrapy's (see HTTPCACHE_* below: it never
# replays a stale page); the quick check drops its own queued requests once the crawl begins.
# Every response is recorded in the version's captures (captures.warc.gz, the evidence each value
# can be checked against and the version rebuilt from): between the cache (900), which turns a
# 304 into the page it stands for, and the redirect (600) and off-site (650) middlewares, which
# consume responses, so that every answer is recorded as the crawl read it.
DOWNLOADER_MIDDLEWARES = {
    "exitscrape.incremental.middleware.QuickCheckDownloaderMiddleware": 50,
    "exitscrape.downloadermiddlewares.offsite.OffsiteRedirectMiddleware": 650,
    "exitscrape.evidence.capture.CaptureMiddleware": 890,
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "exitscrape.incremental.cache.RevalidatingCacheMiddleware": 900,
}
# The quick check holds the spider's start requests back while it asks again for the last
# crawl's pages. Engine side of every other spider middleware: its requests skip theirs.
SPIDER_MIDDLEWARES = {"exitscrape.incremental.middleware.QuickCheckMiddleware": 10}

# One job each: add country codes and citations; collect everything for publishing.
ITEM_PIPELINES = {
    "exitscrape.pipelines.normalise.NormalisePipeline": 100,
    "exitscrape.pipelines.collect.CollectPipeline": 900,
}

# Publishing when the spider closes (gates, then the dataset store), and a progress line on a
# terminal (exitscrape/extensions/progress.py): EXITSCRAPE_PROGRESS "auto" shows it when stderr
# is a terminal and logging is quieter than INFO; "on" / "off" force it.
EXTENSIONS = {
    "exitscrape.extensions.publish.PublishExtension": 500,
    "exitscrape.extensions.progress.Progress": 510,
}
EXITSCRAPE_PROGRESS = "auto"

# Where versions are published: -s EXITSCRAPE_DATA_DIR=DIR, else the environment variable
# EXITSCRAPE_DATA_DIR, else datasets/exit_programmes (exitscrape/dataset/store.py).

# Items are written by the publish extension, never as a feed.
FEEDS: dict[str, dict[str, str]] = {}

# --- Scheduled runs (docs/scheduling.md) ---

# Incremental re-crawls: keep every page in an HTTP cache and ask the site for it again with
# If-None-Match / If-Modified-Since, so an unchanged page costs a 304 instead of a download.
# Our policy always revalidates (Scrapy's RFC2616Policy may skip "heuristically fresh" pages)
# and never replays a stale copy when the site errors (see exitscrape/incremental/cache.py).
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "exitscrape.incremental.cache.RevalidatingPolicy"
HTTPCACHE_STORAGE = "exitscrape.incremental.cache.CacheStorage"
# Pages are text: compressing the cache makes it several times smaller.
HTTPCACHE_GZIP = True
# Where the cache lives: empty means <data-dir>/cache.
EXITSCRAPE_CACHE_DIR = os.environ.get("EXITSCRAPE_CACHE_DIR", "")
# Quick check (exitscrape/incremental/): a rerun first asks again for the pages the latest version
# met and only compares the answers (304 or the same body); the site is crawled, and parsed, only
# when one differs. An unchanged site then costs its revalidations and next to no work here.
# False (`exitscrape crawl --full`) crawls in full every time.
EXITSCRAPE_QUICK_CHECK = True

# Quality gates, checked before anything is published: a failing gate publishes nothing and
# `exitscrape crawl` exits 3, unless forced. Their thresholds are settings too
# (EXITSCRAPE_GATE_MIN_PROGRAMMES, _MIN_PROGRAMME_RATIO, _COVERAGE_BASELINE, _MIN_COVERAGE_RATIO,
# _MAX_FAILED_SHARE): the defaults, and why, are in exitscrape/dataset/quality.py (Thresholds).

# Rebuilding a version from its captures (`exitscrape rebuild`, exitscrape/evidence/replay.py):
# the folder of the version whose captures answer every request instead of the network. Set by
# `exitscrape rebuild` together with the download handlers that replay them; empty: a crawl.
EXITSCRAPE_REPLAY = ""

# Publish even when a gate fails (`exitscrape crawl --force`); recorded in manifest and report.
EXITSCRAPE_FORCE = False

# --- Crawling the site from a web archive (docs/archive.md) ---

# Archive mode (exitscrape/archive/addon.py): with EXITSCRAPE_ARCHIVE set (`exitscrape crawl
# --archive`: `wayback` or a pywb / OpenWayback collection's replay URL), every site URL is read
# from the archive's capture nearest EXITSCRAPE_ARCHIVE_AT (a date, YYYY[-MM[-DD]] or 14 digits;
# empty: the newest captures). The add-on does nothing while EXITSCRAPE_ARCHIVE is empty.
ADDONS = {"exitscrape.archive.addon.ArchiveMode": 0}
EXITSCRAPE_ARCHIVE = ""
EXITSCRAPE_ARCHIVE_AT = ""
# The User-Agent archives see (and the CDX API): a named client saying what it reads and how,
# not a browser. Operators may add a contact: -s "EXITSCRAPE_ARCHIVE_USER_AGENT=... (mailto:...)".
EXITSCRAPE_ARCHIVE_USER_AGENT = (
    f"exitscrape/{__version__} (open research dataset of exit programmes; reading archived "
    "captures of www.exit-practices.eu, one request at a time)"
)
# An archive answering 429, 502, 503 or 504 without Retry-After is asked again after this many
# seconds, doubled each time (RETRY_TIMES tries): it is throttling us, so back off for real.
EXITSCRAPE_ARCHIVE_BACKOFF = 5.0
# Name each version by its as_of (the capture time it was crawled as of) instead of its creation
# time, so that versions sort by as_of; set by `exitscrape backfill` for the crawls it runs.
EXITSCRAPE_NAME_BY_AS_OF = False

# Breadth-first order (Scrapy's documented recipe): category pages are chained ("Next page"), and
# depth-first would queue every programme link of a whole chain before fetching any; the frontier,
# and memory, would grow with the catalogue. Breadth-first keeps it to a few pages' links.
# The dataset does not depend on crawl order. See BENCHMARKS.md ("Memory").
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# Scrapy starts CONCURRENT_ITEMS (default 100) asyncio tasks for every response's output; our
# callbacks yield a few items each and our pipelines are synchronous, so 100 only costs time
# (about a tenth of a crawl's CPU at 1,000 pages). See BENCHMARKS.md ("Crawl").
CONCURRENT_ITEMS = 8

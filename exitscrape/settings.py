"""Scrapy settings for exitscrape. Every setting that differs from Scrapy's default says why.

Any of them can be overridden per run: ``exitscrape crawl -s NAME=VALUE`` or
``scrapy crawl exit_practices -s NAME=VALUE``.
"""

from __future__ import annotations

import os

from exitscrape import __version__
from exitscrape.downloadermiddlewares.politeness import user_agent

BOT_NAME = "exitscrape"
SPIDER_MODULES = ["exitscrape.spiders"]
NEWSPIDER_MODULE = "exitscrape.spiders"

# Name ourselves, so the site's owners can tell who is crawling and why, and where to reach us.
# USER_AGENT is built from the contact URL: `-s EXITSCRAPE_CONTACT_URL=URL` changes both (see
# exitscrape/downloadermiddlewares/politeness.py); a USER_AGENT set outright is used as it is.
EXITSCRAPE_CONTACT_URL = "https://github.com/exitscrape/exitscrape"
USER_AGENT = user_agent(EXITSCRAPE_CONTACT_URL)

# Politeness towards a small non-profit site: one request at a time, a delay between them,
# and AutoThrottle to back off further when the server slows down. The crawl stays on one site,
# so the global cap is the per-site cap: CONCURRENT_REQUESTS_PER_DOMAIN keeps Scrapy's default
# (8), and `-s CONCURRENT_REQUESTS=16` alone lifts the cap as it would for any Scrapy spider.
# The delay is the stated one: Scrapy's default jitter (DOWNLOAD_DELAY_JITTER 0.5) would send
# requests 0.5 to 1.5 s apart. AutoThrottle starts at DOWNLOAD_DELAY when that is set for a run
# (`-s DOWNLOAD_DELAY=0` means no delay), at AUTOTHROTTLE_START_DELAY otherwise, and only ever
# slows down from there (the politeness add-on, in ADDONS below).
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 1
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# robots.txt as RFC 9309 reads it (exitscrape/downloadermiddlewares/robots.py): a robots.txt
# answering 5xx, or not at all, forbids the whole site (the run fails, naming robots.txt); only
# its first 500 KiB are read. Its Crawl-delay for our user agent is honoured as the least delay
# between requests, up to this many seconds (a larger one is read as this, with a warning): at
# 5 s, a few hundred pages asked for twice (quick check, crawl) still fit in CLOSESPIDER_TIMEOUT.
EXITSCRAPE_MAX_CRAWL_DELAY = 5.0

# A 503 or 429 answer's Retry-After is honoured: the retry waits that long
# (exitscrape/downloadermiddlewares/retry.py). All the attempts at one URL, their waits included,
# get this many seconds in all: a URL that drips or never closes fails after two attempts at
# DOWNLOAD_TIMEOUT (30 s), not after three (90 s), and a Retry-After beyond it fails the page.
EXITSCRAPE_URL_TIMEOUT = 60.0

# A page that hangs or never ends must not stall a run: give up sooner than the 180 s default
# and refuse bodies far larger than any page of the site (Scrapy's default cap is 1 GiB).
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

# Downloader middlewares. First, every request is held to the site's scope (links, redirects,
# meta refreshes, the quick check's plan alike): one off the site is refused and recorded, before
# even its host's robots.txt is asked for; it replaces Scrapy's OffsiteMiddleware, which compares
# hosts without their ports. robots.txt as RFC 9309 reads it replaces Scrapy's middleware; the
# retry budget sits just outside RetryMiddleware (550) to see its answers first. Our HTTP cache
# middleware replaces Scrapy's (see HTTPCACHE_* below: it never replays a stale page); the quick
# check drops its own queued requests once the crawl begins.
# Every response is recorded in the version's captures (captures.warc.gz, the evidence each value
# can be checked against and the version rebuilt from), between the cache (900), which turns a
# 304 into the page it stands for, and the redirect middleware (600), which consumes redirects:
# every answer is recorded as the crawl read it.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "exitscrape.downloadermiddlewares.offsite.SiteScopeMiddleware": 40,
    "exitscrape.incremental.middleware.QuickCheckDownloaderMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "exitscrape.downloadermiddlewares.robots.RobotsTxtMiddleware": 100,
    "exitscrape.downloadermiddlewares.retry.RetryBudgetMiddleware": 560,
    "exitscrape.evidence.capture.CaptureMiddleware": 890,
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "exitscrape.incremental.cache.RevalidatingCacheMiddleware": 900,
}
# The quick check holds the spider's start requests back while it asks again for the last
# crawl's pages. Engine side of every other spider middleware: its requests skip theirs.
# Scrapy's DepthMiddleware drops a request deeper than DEPTH_LIMIT silently: ours records it and
# ends the crawl (see the bounds below).
SPIDER_MIDDLEWARES = {
    "exitscrape.incremental.middleware.QuickCheckMiddleware": 10,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "exitscrape.spidermiddlewares.depth.DepthLimitMiddleware": 900,
}

# --- Bounds: a crawl that reaches one stops, fails the finish_reason gate and publishes nothing ---
# The live site has a few hundred pages, its deepest a few links from the start page (the
# bundled snapshot's: 36 pages, depth 2), and a polite crawl of it takes a few minutes. Each
# bound leaves a wide margin and stops a crawler trap (a link generator, a calendar) early.
# 0 turns a bound off. The finish reasons are named in exitscrape/dataset/quality.py (BOUNDS).
# Responses in all, quick check included (a changed site's pages are asked for twice): room for
# a catalogue grown fifty-fold, while a trap stops within minutes at full speed (and the wall
# time below stops a polite one).
CLOSESPIDER_PAGECOUNT = 20000
# Seconds of wall time: ten times a full polite crawl, and under the systemd unit's 2 hours.
CLOSESPIDER_TIMEOUT = 3600.0
# Links from the start page: category pages chained by "Next page" links add one each, so a
# long paginated category must still fit.
DEPTH_LIMIT = 50
# Links taken from one page (content or menu): a category page lists a few dozen programmes.
# A page with more has its first ones recorded and ends the crawl (links_per_page).
EXITSCRAPE_MAX_LINKS_PER_PAGE = 1000

# Pages are read (parsed, their programme extracted) in a second process on a machine with two
# cores or more: the crawl's process then only downloads and navigates, a third less work per
# page (exitscrape/extraction/reader.py). A crawl starts that process only after reading
# EXITSCRAPE_READER_PROCESS_AFTER pages itself: a small crawl, or a rerun reading a few changed
# pages, does not pay the half second it takes to start. False reads every page here.
EXITSCRAPE_READER_PROCESS = True
EXITSCRAPE_READER_PROCESS_AFTER = 100

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
# Scrapy's own extensions but its telnet console and remote-control server, which nothing needs
# on a scheduled crawler: they would only open ports (the latter also writes job files into the
# home directory). Left out of the base list, not disabled: Scrapy imports every extension it
# lists, even one set to None, and the remote control's import (aiohttp) cost 0.25-0.3 s of
# every run. tests/test_settings.py fails when Scrapy's list changes.
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.memdebug.MemoryDebugger": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.feedexport.FeedExporter": 0,
    "scrapy.extensions.logstats.LogStats": 0,
    "scrapy.extensions.spiderstate.SpiderState": 0,
    "scrapy.extensions.throttle.AutoThrottle": 0,
}
EXITSCRAPE_PROGRESS = "auto"

# Where versions are published: -s EXITSCRAPE_DATA_DIR=DIR, else the environment variable
# EXITSCRAPE_DATA_DIR, else datasets/exit_programmes (exitscrape/dataset/store.py).
EXITSCRAPE_DATA_DIR: str | None = None

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
# The check's requests for plain pages go straight to the site over keep-alive connections, as
# politely as the crawl's (robots.txt, concurrency, delays): through Scrapy each cost about 1 ms
# of CPU, a third of a 1,000-page site's cold crawl in all. Only a 304 or a 200 is taken from
# them; anything else is asked again through Scrapy (exitscrape/incremental/revalidation.py).
# False sends every request through Scrapy.
EXITSCRAPE_DIRECT_CHECK = True

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
# empty: the newest captures). The add-on does nothing while EXITSCRAPE_ARCHIVE is empty. The
# politeness add-on (User-Agent, AutoThrottle's start; exitscrape/downloadermiddlewares/
# politeness.py) comes after it: a contact URL set for the run then wins over the archive's
# User-Agent too.
ADDONS = {
    "exitscrape.archive.addon.ArchiveMode": 0,
    "exitscrape.downloadermiddlewares.politeness.Politeness": 10,
}
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
# callbacks yield a few items each and our pipelines are synchronous, so more than one only
# costs time (100: about a quarter of a crawl's CPU; 8: 2.6 % more instructions than 1).
# See BENCHMARKS.md ("Crawl").
CONCURRENT_ITEMS = 1

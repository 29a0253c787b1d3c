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
# and AutoThrottle to back off further when the server slows down.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 1
CONCURRENT_REQUESTS_PER_DOMAIN = 1
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

# Record redirects that leave the site as failures (Scrapy drops them silently). It must see
# responses before RedirectMiddleware (600) does, so it sits nearer the downloader.
DOWNLOADER_MIDDLEWARES = {"exitscrape.middlewares.OffsiteRedirectMiddleware": 650}

ITEM_PIPELINES = {
    "exitscrape.pipelines.normalise.NormalisePipeline": 100,
    "exitscrape.pipelines.dataset.DatasetPipeline": 900,
}

# Where versions are published: -s EXITSCRAPE_DATA_DIR=... or the environment variable,
# else datasets/exit_programmes (relative to the working directory).
EXITSCRAPE_DATA_DIR = os.environ.get("EXITSCRAPE_DATA_DIR") or "datasets/exit_programmes"

# Items are written by the dataset pipeline, never as a feed.
FEEDS: dict[str, dict[str, str]] = {}

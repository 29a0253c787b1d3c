"""Request meta keys that exitscrape's components share, declared in one place.

Scrapy's own keys (``redirect_urls``, ``redirect_reasons``, ``dont_cache``,
``handle_httpstatus_list``) are used as Scrapy documents them.
"""

from __future__ import annotations

#: The URL of the page whose link led to the request (``None`` for the start URL); set by the
#: spider, recorded as ``pages.referer``.
REFERER = "exitscrape_referer"
#: Marks the request for the start URL; set by the spider.
START = "exitscrape_start"
#: Marks a quick-check request, with the URL the plan knows it by; set and read by
#: :mod:`exitscrape.incremental.middleware`.
RECHECK_URL = "exitscrape_recheck_url"
#: The SHA-256 of the body the site was found to serve earlier in this run (by the quick check):
#: a cached copy with that body is current and served without asking the site again. Set by
#: :mod:`exitscrape.incremental.middleware`, read by :mod:`exitscrape.incremental.cache`.
CONFIRMED_SHA256 = "exitscrape_confirmed_sha256"
#: The archived capture a response was read from (:class:`exitscrape.archive.replay.Memento`),
#: in archive mode only; set by :mod:`exitscrape.archive.handler`, recorded as
#: ``pages.captured_at`` and ``pages.archive_url``.
MEMENTO = "exitscrape_memento"
#: When a URL was first attempted (``time.monotonic()``); retries and redirects inherit it, so
#: all the attempts at one URL share its time limit. Set and read by
#: :mod:`exitscrape.downloadermiddlewares.retry`.
FIRST_ATTEMPT = "exitscrape_first_attempt"
#: The WARC record ID of the captured response a request got (:mod:`exitscrape.evidence`): set
#: by the capture middleware, or in a rebuild by the replay; recorded as ``pages.warc_record_id``.
WARC_RECORD_ID = "exitscrape_warc_record_id"
#: When that response came (a UTC datetime, the record's ``WARC-Date``): recorded as
#: ``pages.fetched_at`` and ``programmes.crawled_at``, so that a rebuild reproduces them.
FETCHED_AT = "exitscrape_fetched_at"

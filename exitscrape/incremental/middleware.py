"""The quick check's middlewares: they make a rerun ask again for the last full crawl's pages
before the spider starts, and let the crawl reuse what the check confirmed.

:class:`QuickCheckMiddleware` (a spider middleware) holds the spider's start requests back while
the plan's pages are asked for again; the first page that answers differently releases them (the
crawl begins), and a check that ends without a verdict (an answer went missing) releases them
when the spider goes idle. :class:`QuickCheckDownloaderMiddleware` drops the check's requests
still queued once the crawl has begun (the crawl asks for those pages itself: a site changed
everywhere costs one crawl, not a check and a crawl), and marks the crawl's requests for pages
the check confirmed, so the HTTP cache serves them (:mod:`exitscrape.incremental.cache`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from exitscrape.incremental.quickcheck import Answer, QuickCheck
from exitscrape.spiders.base import scope_of
from exitscrape.spiders.meta import CONFIRMED_SHA256, RECHECK_URL
from exitscrape.spiders.responses import body_sha256, describe_failure, is_html
from exitscrape.spiders.scope import looks_like_page

logger = logging.getLogger(__name__)


class QuickCheckMiddleware:
    """Runs the quick check (see the module docstring). ``check`` is this run's check (``None``
    when the run crawls in full); ``crawling`` says whether the crawl has begun."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.check: QuickCheck | None = None
        self.crawling = True
        self._held: list[Request] = []
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuickCheckMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        self.check = QuickCheck.load(self.crawler.settings, scope_of(self.crawler))
        if self.check is None:
            async for request in start:
                yield request
            return
        async for request in start:
            self._held.append(request)
        self.crawling = False
        logger.info(
            "Quick check: asking again for the %d pages of the last full crawl (version %s)",
            len(self.check.pages),
            self.check.version,
        )
        for url in self.check.pages:
            yield self._request(url)

    def _request(self, url: str, method: str | None = None) -> Request:
        assert self.check is not None
        planned = self.check.pages[url]
        headers = {}
        if planned.etag:
            headers["If-None-Match"] = planned.etag
        if planned.last_modified:
            headers["If-Modified-Since"] = planned.last_modified
        return Request(
            url,
            method=method or ("GET" if looks_like_page(url) else "HEAD"),
            headers=headers,
            callback=self._answered,
            errback=self._failed,
            # Past the cache, which would answer a 304 with its copy: the plan has the answer.
            meta={RECHECK_URL: url, "dont_cache": True, "handle_httpstatus_list": [304]},
            dont_filter=True,  # the crawl, if one follows, must still be able to ask for it
        )

    def _answered(self, response: Response) -> None:
        """A page's answer: compared with the last full crawl's, never parsed."""
        assert self.check is not None
        url = response.meta[RECHECK_URL]
        if response.status == 304:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("httpcache/revalidate")  # as the cache counts a 304
            answer = self.check.not_modified_answer(url, response.url)
        else:
            answer = Answer(response.url, response.status, body_sha256(response, is_html(response)))
        self._compare(url, answer)

    def _failed(self, failure: Failure) -> list[Request]:
        if self.crawling:  # dropped once the crawl began, or too late to matter
            return []
        request = failure.request  # type: ignore[attr-defined]
        info = describe_failure(failure)
        if request.method == "HEAD" and info.status in (405, 501):  # as the spider does
            return [self._request(request.meta[RECHECK_URL], method="GET")]
        answer = Answer(info.final_url, info.status, None, info.error)
        self._compare(request.meta[RECHECK_URL], answer)
        return []

    def _compare(self, url: str, answer: Answer) -> None:
        assert self.check is not None
        if self.check.observe(url, answer) and not self.crawling:
            logger.info("Quick check: %s; crawling the site", self.check.changed)
            self._begin_crawl()

    def _begin_crawl(self) -> None:
        self.crawling = True
        assert self.crawler.engine is not None
        for request in self._held:
            self.crawler.engine.crawl(request)
        self._held = []

    def spider_idle(self) -> None:
        """Crawl when the check ended without a verdict (an answer went missing)."""
        check = self.check
        if check is None or self.crawling or check.unchanged:
            return
        logger.info(
            "Quick check: %d of %d pages answered; crawling the site",
            len(check.confirmed),
            len(check.pages),
        )
        self._begin_crawl()
        raise DontCloseSpider


class QuickCheckDownloaderMiddleware:
    """Drops the quick check's queued requests once the crawl has begun; marks the crawl's
    requests for confirmed pages (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._quick_check: QuickCheckMiddleware | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuickCheckDownloaderMiddleware:
        return cls(crawler)

    def spider_opened(self) -> None:
        self._quick_check = self.crawler.get_spider_middleware(QuickCheckMiddleware)

    def process_request(self, request: Request) -> None:
        quick_check = self._quick_check
        if quick_check is None or quick_check.check is None:
            return
        if RECHECK_URL in request.meta:
            if quick_check.crawling:
                raise IgnoreRequest("the quick check is over: the crawl asks for this page")
        elif confirmed := quick_check.check.confirmed.get(request.url):
            request.meta[CONFIRMED_SHA256] = confirmed

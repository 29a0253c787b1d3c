"""The quick check's middlewares: they make a rerun ask again for the last full crawl's pages
before the spider starts, and let the crawl reuse what the check confirmed.

:class:`QuickCheckMiddleware` (a spider middleware) holds the spider's start requests back while
the plan's pages are asked for again: first straight to the site
(:mod:`exitscrape.incremental.revalidation`), then through Scrapy for the pages that pass left
without an answer it could take. When every page has answered and some differ, it releases
them (the crawl begins) and replays, in place of each request for a page the check confirmed,
what the last crawl derived from that page (:mod:`exitscrape.incremental.replay`): its records,
its captures, and the requests for its links, which are replayed or sent in turn. When many pages
differ (the site changed everywhere) the crawl begins at once; a check that ends without a
verdict (an answer went missing) releases them when the spider goes idle.
:class:`QuickCheckDownloaderMiddleware` drops the check's requests still queued once the crawl
has begun (the crawl asks for those pages itself: a site changed everywhere costs one crawl, not
a check and a crawl), and marks the crawl's requests for pages the check confirmed, so the HTTP
cache serves them (:mod:`exitscrape.incremental.cache`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from exitscrape.dataset.records import CrawlRecords
from exitscrape.dataset.store import DatasetStore, resolve_data_dir
from exitscrape.downloadermiddlewares.robots import RobotsTxtMiddleware
from exitscrape.evidence.capture import CaptureMiddleware
from exitscrape.evidence.writer import CopiedExchange
from exitscrape.incremental.quickcheck import Answer, QuickCheck
from exitscrape.incremental.replay import Derived, Replay, ReplayRefused
from exitscrape.incremental.revalidation import (
    NOT_MODIFIED,
    Conditional,
    Limits,
    revalidate,
    unavailable,
)
from exitscrape.pipelines.collect import CollectPipeline
from exitscrape.spiders.base import scope_of, site_spider
from exitscrape.spiders.meta import CONFIRMED_SHA256, RECHECK_URL, REFERER
from exitscrape.spiders.responses import body_sha256, describe_failure, is_html
from exitscrape.spiders.scope import looks_like_page

logger = logging.getLogger(__name__)

#: The check hears every page out while at most this many pages (or a twentieth of the plan, if
#: more) answer differently; past that the site changed broadly, replaying would save little,
#: and the crawl begins at once.
FEW_DIFFERENCES = 2
#: Scrapy's stats, kept for the answers taken straight as Scrapy keeps them for its own.
RESPONSE_COUNT = "downloader/response_count"
NOT_MODIFIED_COUNT = "downloader/response_status_count/304"
#: A 304 to the check, counted as the HTTP cache counts one.
REVALIDATED = "httpcache/revalidate"


def _method(url: str) -> str:
    """The check asks for a web page with GET, for another file with HEAD (as the spider)."""
    return "GET" if looks_like_page(url) else "HEAD"


class QuickCheckMiddleware:
    """Runs the quick check and the replay (see the module docstring). ``check`` is this run's
    check (``None`` when the run crawls in full); ``crawling`` says whether the crawl has begun;
    ``replay`` holds the records of the pages it replays (``None`` when it replays none)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.check: QuickCheck | None = None
        self.crawling = True
        self.replay: Replay | None = None
        self._held: list[Request] = []
        self._seen: set[str] = set()  # replayed URLs, when the scheduler has no duplicate filter
        self._followed: set[str] = set()  # links of replayed pages already followed
        # Where replayed pages are recorded: found at the first one.
        self._records: CrawlRecords | None = None
        self._capture: CaptureMiddleware | None = None
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
        await self._revalidate_directly()
        if self.crawling:  # the answers taken straight were enough to begin
            return
        for url in self.check.pages:
            if url not in self.check.answered:
                yield self._request(url)

    async def _revalidate_directly(self) -> None:
        """Ask for the plan's pages straight (:mod:`exitscrape.incremental.revalidation`), when
        that can stand for Scrapy's requests: pages the last crawl read at their own URL with a
        validator, that robots.txt allows. Those it leaves unanswered go through Scrapy."""
        check = self.check
        assert check is not None
        settings = self.crawler.settings
        scope = scope_of(self.crawler)
        why_not = unavailable(settings, scope.start_url)
        if why_not is not None:
            logger.debug("Quick check: every request goes through Scrapy: %s", why_not)
            return
        robots = self.crawler.get_downloader_middleware(RobotsTxtMiddleware)
        requests = []
        for url, planned in check.pages.items():
            answer = planned.answer
            if not planned.validators or (answer.final_url, answer.status) != (url, 200):
                continue
            if answer.error is None and (robots is None or await robots.allows(url)):
                requests.append(Conditional(url, _method(url), planned.validators))
        assert self.crawler.engine is not None
        downloader = self.crawler.engine.downloader
        slot = downloader.per_slot_settings.get(downloader.get_slot_key(Request(scope.start_url)))
        limits = Limits.from_settings(settings, robots.crawl_delay if robots else None, slot)
        stopped = await revalidate(requests, limits, self._answered_directly)
        logger.info(
            "Quick check: %d of %d pages answered straight%s",
            check.direct,
            len(check.pages),
            f" (stopped: {stopped})" if stopped else "",
        )

    def _answered_directly(self, url: str, status: int) -> bool:
        """A page's answer to a request sent straight; ``True`` once the crawl has begun."""
        check = self.check
        stats = self.crawler.stats
        assert check is not None and stats is not None
        check.direct += 1
        stats.inc_value(RESPONSE_COUNT)
        if status == NOT_MODIFIED:
            stats.inc_value(NOT_MODIFIED_COUNT)
            stats.inc_value(REVALIDATED)
            self._compare(url, check.not_modified_answer(url, url))
        else:  # the site says it changed: not read here (the crawl reads it)
            self._compare(url, Answer(url, status, None))
        return self.crawling

    def _request(self, url: str, method: str | None = None) -> Request:
        assert self.check is not None
        return Request(
            url,
            method=method or _method(url),
            headers=dict(self.check.pages[url].validators),
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
            self.crawler.stats.inc_value(REVALIDATED)
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
        check = self.check
        assert check is not None
        first = check.observe(url, answer)
        if self.crawling:
            return
        if first:
            logger.info("Quick check: %s", check.changed)
        broadly = check.differences > max(FEW_DIFFERENCES, len(check.pages) // 20)
        if check.differences and (broadly or not check.records_sha256):
            logger.info("Quick check: %d pages differ; crawling the site", check.differences)
            self._begin_crawl()
        elif check.complete and not check.unchanged:
            logger.info(
                "Quick check: %d of %d pages answered as before; crawling the site",
                len(check.confirmed),
                len(check.pages),
            )
            self._begin_crawl()

    def _begin_crawl(self) -> None:
        self.crawling = True
        self.replay = self._load_replay()
        engine = self.crawler.engine
        assert engine is not None
        for request in self._replayed(self._held):
            engine.crawl(request)
        self._held = []

    def _load_replay(self) -> Replay | None:
        check = self.check
        if check is None or not check.records_sha256 or not check.confirmed:
            return None
        settings = self.crawler.settings
        store = DatasetStore(resolve_data_dir(settings.get("EXITSCRAPE_DATA_DIR")))
        try:
            return Replay.load(
                settings, check.records_sha256, check.confirmed, store, check.version
            )
        except ReplayRefused as error:
            logger.warning("Crawling the pages found unchanged, not replaying them: %s", error)
            check.not_replayed = str(error)
            return None

    def process_spider_output(
        self, response: Response | None, result: Iterable[Any], spider: Spider | None = None
    ) -> Iterator[Any]:
        for output in result:
            if self.replay is not None and isinstance(output, Request):
                yield from self._replayed([output])
            else:
                yield output

    async def process_spider_output_async(
        self, response: Response | None, result: AsyncIterator[Any], spider: Spider | None = None
    ) -> AsyncIterator[Any]:
        async for output in result:
            if self.replay is not None and isinstance(output, Request):
                for request in self._replayed([output]):
                    yield request
            else:
                yield output

    def _replayed(self, requests: Iterable[Request]) -> Iterator[Request]:
        """*requests*, each request for a page to replay replaced by that page's records and
        the requests for its links (replayed in turn); the rest to send."""
        replay = self.replay
        if replay is None:
            yield from requests
            return
        settings = self.crawler.settings
        max_depth = settings.getint("DEPTH_LIMIT")
        depth_priority = settings.getint("DEPTH_PRIORITY")
        spider = site_spider(self.crawler)
        queue = deque(requests)
        while queue:
            request = queue.popleft()
            depth = request.meta.get("depth", 0)
            # At the depth limit a page is crawled, so that the limit stops the crawl as it would.
            replayable = request.method == "GET" and not (max_depth and depth >= max_depth)
            derived = replay.pages.get(request.url) if replayable else None
            if derived is None:
                yield request
                continue
            if self._already_seen(request):  # as the scheduler would drop it
                continue
            replay.take(request.url)
            self._record(derived, request, replay)
            # Followed as the spider follows them: the menu's links (on the page it read the menu
            # from), then the page's. A link met before was replayed or handed to the scheduler,
            # whose duplicate filter would drop it: no request is made for it (every page links
            # to the whole menu).
            menu_links = derived.menu.links if derived.menu else []
            links = [
                link
                for link in dict.fromkeys((*menu_links, *derived.page.links))
                if link not in self._followed
            ]
            self._followed.update(links)
            for link in spider.follow(links, request.url):
                link.meta["depth"] = depth + 1
                link.priority -= (depth + 1) * depth_priority
                queue.append(link)

    def _already_seen(self, request: Request) -> bool:
        """Whether the crawl already met the page *request* asks for (now it has)."""
        assert self.crawler.engine is not None
        scheduler = self.crawler.engine.scheduler
        if isinstance(scheduler, Scheduler):  # its filter must know the pages replayed
            return not request.dont_filter and scheduler.df.request_seen(request)
        if request.url in self._seen:
            return True
        self._seen.add(request.url)
        return False

    def _record(self, derived: Derived, request: Request, replay: Replay) -> None:
        """Record a replayed page as the crawl would have (items, then its captures)."""
        records = self._records
        if records is None:
            collect = self.crawler.get_item_pipeline(CollectPipeline)
            if collect is None:
                raise RuntimeError("replaying pages needs the collect pipeline")
            records = self._records = collect.records
            self._capture = self.crawler.get_downloader_middleware(CaptureMiddleware)
        if derived.menu is not None:
            records.add(derived.menu)
        if derived.programme is not None:
            records.add(derived.programme)
        derived.page.referer = request.meta.get(REFERER)  # taken once: the records are its own
        records.add(derived.page)
        if self._capture is not None and derived.page.warc_record_id:
            self._capture.copy(
                CopiedExchange(str(replay.captures), derived.span, derived.page.warc_record_id)
            )
        assert self.check is not None
        self.check.replayed += 1

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

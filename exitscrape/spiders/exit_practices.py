"""The ``exit_practices`` spider: navigation only.

Extraction is in :mod:`exitscrape.extraction` (page objects; everything taken from a page comes
from :func:`~exitscrape.extraction.reading.read_page`, run by the spider's
:class:`~exitscrape.extraction.reader.PageReader`, maybe in a second process), what belongs to
the site in
:mod:`exitscrape.spiders.scope`, and reruns' quick check in :mod:`exitscrape.incremental`.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from exitscrape.extensions.outcome import SUMMARISED
from exitscrape.extraction.links import more_links_than
from exitscrape.extraction.menu import MenuEntry, category_of
from exitscrape.extraction.reader import PageReader, cores
from exitscrape.extraction.reading import Page
from exitscrape.items import PageItem, SiteMenu
from exitscrape.spiders import meta
from exitscrape.spiders.base import SiteSpider
from exitscrape.spiders.responses import (
    body_sha256,
    capture_fields,
    decoded,
    describe_failure,
    header,
    is_html,
    media_type,
    selector_type,
)
from exitscrape.spiders.scope import DEFAULT_START_URL, SiteScope, looks_like_page

#: The finish reason of a crawl stopped by a page with more links than
#: ``EXITSCRAPE_MAX_LINKS_PER_PAGE``.
TOO_MANY_LINKS = "links_per_page"


def _now() -> datetime:
    return datetime.now(UTC)


def _fetched_at(request_meta: dict[str, Any]) -> datetime:
    """When the response came: its capture's date (a rebuild reproduces it), else now."""
    recorded: datetime | None = request_meta.get(meta.FETCHED_AT)
    return recorded or _now()


class ExitPracticesSpider(SiteSpider):
    """Crawl the Exit Practices site from its start page: menu, category pages, programme pages.

    Arguments: ``-a start_url=URL`` (default: the live site). A page with more links than
    ``EXITSCRAPE_MAX_LINKS_PER_PAGE`` is not parsed: it is recorded as failed, with the reason,
    and ends the crawl (finish reason :data:`TOO_MANY_LINKS`).
    """

    name = "exit_practices"
    max_links = 0  # EXITSCRAPE_MAX_LINKS_PER_PAGE; 0: no cap

    def __init__(self, start_url: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = SiteScope(start_url or DEFAULT_START_URL)
        self.reader = PageReader()  # every page read here, unless from_crawler says otherwise
        self._menu_read = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_links = settings.getint("EXITSCRAPE_MAX_LINKS_PER_PAGE")
        if settings.getbool("EXITSCRAPE_READER_PROCESS") and cores() >= 2:
            spider.reader = PageReader(settings.getint("EXITSCRAPE_READER_PROCESS_AFTER"))
        return spider

    def closed(self, reason: str) -> None:
        self.reader.close()

    @property
    def start_url(self) -> str:
        return self.scope.start_url

    async def start(self) -> AsyncIterator[scrapy.Request]:
        request = self._request(self.start_url, referer=None)
        request.meta[meta.START] = True
        yield request

    def _request(self, url: str, referer: str | None) -> scrapy.Request:
        request_meta = {meta.REFERER: referer}
        if looks_like_page(url):
            return scrapy.Request(url, callback=self.parse, errback=self.failed, meta=request_meta)
        return scrapy.Request(
            url, method="HEAD", callback=self.parse_other, errback=self.failed, meta=request_meta
        )

    def follow(self, urls: Iterable[str], referer: str) -> Iterator[scrapy.Request]:
        for url in urls:
            yield self._request(url, referer)

    def _page(self, response: Response, **fields: Any) -> PageItem:
        redirects = response.request.meta.get("redirect_urls") if response.request else None
        return PageItem(
            url=redirects[0] if redirects else response.url,
            final_url=response.url,
            status=response.status,
            fetched_at=_fetched_at(response.meta),
            content_type=media_type(response),
            referer=response.meta.get(meta.REFERER),
            etag=header(response, b"ETag"),
            last_modified=header(response, b"Last-Modified"),
            warc_record_id=response.meta.get(meta.WARC_RECORD_ID),
            **capture_fields(response.meta),
            **fields,
        )

    async def parse(self, response: Response) -> AsyncIterator[Any]:
        if not isinstance(response, TextResponse) or not is_html(response):
            for item in self.parse_other(response):
                yield item
            return
        response = decoded(response)
        if response.meta.get(meta.START):
            self.scope.follow_start_redirect(response.url)
        digest = body_sha256(response, html=True)
        if b"\x00" in response.body:  # no HTML page holds NUL bytes: binary served as HTML
            self.logger.warning("Failed %s: binary content served as HTML", response.url)
            yield self._page(response, body_sha256=digest, error="binary content served as HTML")
            return
        if self.max_links and more_links_than(response.text, self.max_links):
            error = (
                f"more than {self.max_links} links (EXITSCRAPE_MAX_LINKS_PER_PAGE): not parsed, "
                "the crawl stopped"
            )
            self.logger.error("Failed %s: %s", response.url, error, extra={SUMMARISED: True})
            yield self._page(response, body_sha256=digest, error=error)
            raise CloseSpider(TOO_MANY_LINKS)
        try:
            results = await self._read(response, digest)
        except Exception as error:  # a hostile page (nested 10,000 deep, say) fails alone
            self.logger.warning("Failed %s: cannot parse it: %r", response.url, error)
            yield self._page(
                response,
                body_sha256=digest,
                error=f"cannot parse the page: {type(error).__name__}: {error}",
            )
            return
        for result in results:
            yield result

    async def _read(self, response: TextResponse, digest: str | None) -> list[Any]:
        """The page's items and requests: read by the reader (maybe in another process), its
        links held to the site, its menu taken from the first page read with one."""
        page = Page(
            response.url,
            response.text,
            response.encoding,
            selector_type(response),
            _fetched_at(response.meta),
        )
        reading = await self.reader.read(page, with_menu=not self._menu_read)
        results: list[Any] = []
        if reading.menu and not self._menu_read:  # pages read at once may all hold it
            results.extend(self._read_menu(reading.menu, response.url))
        links = self.scope.admit_all(reading.links)
        if reading.programme is not None:
            results.append(reading.programme)
        is_programme = reading.programme is not None
        results.append(
            self._page(response, body_sha256=digest, is_programme=is_programme, links=links)
        )
        results.extend(self.follow(links, response.url))
        return results

    def _read_menu(self, entries: list[MenuEntry], page_url: str) -> Iterator[Any]:
        """The category tree from the menu *entries* of the page at *page_url*; then follow
        them."""
        self._menu_read = True
        categories = {}
        for entry in entries:
            url, category = self.scope.admit(entry.url), category_of(entry.path)
            if url and category:
                categories[url] = category
        links = self.scope.admit_all([entry.url for entry in entries])
        yield SiteMenu(url=page_url, categories=categories, links=links)
        yield from self.follow(links, page_url)

    def parse_other(self, response: Response) -> Iterator[PageItem]:
        """A response that is not a web page (a PDF, an image): recorded, not parsed."""
        item = self._page(response)
        if item.content_type is None:
            item.content_type = mimetypes.guess_type(response.url)[0]
        item.body_sha256 = body_sha256(response, html=False)
        yield item

    def failed(self, failure: Failure) -> Iterator[PageItem | scrapy.Request]:
        """A request that ended in an error (after retries): recorded with the reason."""
        request = failure.request  # type: ignore[attr-defined]
        info = describe_failure(failure)
        if request.method == "HEAD" and info.status in (405, 501):  # a server refusing HEAD
            yield request.replace(method="GET", callback=self.parse_other)
            return
        redirects = request.meta.get("redirect_urls")
        if not info.skipped:
            self.logger.warning("Failed %s: %s", request.url, info.error)
        answered = info.status is not None  # a response came (HTTP 404, say): it was captured
        yield PageItem(
            url=redirects[0] if redirects else request.url,
            final_url=info.final_url,
            status=info.status,
            fetched_at=_fetched_at(request.meta) if answered else _now(),
            referer=request.meta.get(meta.REFERER),
            error=info.error,
            skipped=info.skipped,
            warc_record_id=request.meta.get(meta.WARC_RECORD_ID) if answered else None,
            **capture_fields(request.meta),
        )

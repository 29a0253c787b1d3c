"""The ``exit_practices`` spider: navigation only; extraction is in :mod:`exitscrape.extraction`."""

from __future__ import annotations

import codecs
import hashlib
import mimetypes
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from exitscrape.extraction.links import content_links
from exitscrape.extraction.menu import category_of, read_menu
from exitscrape.extraction.programme import ProgrammePage
from exitscrape.httpcache import CONFIRMED
from exitscrape.items import MenuItem, PageItem, ProgrammeItem
from exitscrape.recheck import Answer, QuickCheck

DEFAULT_START_URL = "https://www.exit-practices.eu/"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
# Links whose extension says "not a web page" are checked with HEAD (recorded, never parsed).
_PAGE_EXTENSIONS = frozenset(("", ".html", ".htm", ".php", ".asp", ".aspx", ".jsp", "/"))
_CHARSET = re.compile(rb"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def site_key(url: str) -> tuple[str, int | None]:
    """Host (without ``www.``) and explicit non-default port: ``http://site/`` and
    ``https://www.site/`` are one site, another host or port is another."""
    parts = urlsplit(url)
    port = parts.port if parts.port not in (None, 80, 443) else None
    return ((parts.hostname or "").removeprefix("www."), port)


def _looks_like_page(url: str) -> bool:
    path = urlsplit(url).path
    last = path.rsplit("/", 1)[-1]
    extension = "." + last.rsplit(".", 1)[-1].lower() if "." in last else ""
    return extension in _PAGE_EXTENSIONS


def _now() -> datetime:
    return datetime.now(UTC)


def _decoded(response: TextResponse) -> TextResponse:
    """The response decoded with the first encoding that fits its bytes: the BOM's, the HTTP
    header's, the ``<meta>`` tag's, UTF-8, else windows-1252 (the web's legacy default).

    Scrapy trusts a declared charset even when it cannot decode the page, and guesses (often
    wrongly, e.g. windows-1250) when none is declared.
    """
    body = response.body
    candidates = [
        "utf-8" if body.startswith(codecs.BOM_UTF8) else None,
        _charset(response.headers.get(b"Content-Type", b"")),
        _charset(body[:4096]),
        "utf-8",
        "cp1252",
    ]
    for encoding in filter(None, candidates):
        try:
            name = codecs.lookup(encoding).name
            body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
        if name == codecs.lookup(response.encoding).name:
            return response
        return response.replace(encoding=name)
    return response


def _body_sha256(response: Response, html: bool) -> str | None:
    """The body's hash as the crawl records it (a web page's always, another file's when it has
    a body), and as the quick check compares it."""
    return hashlib.sha256(response.body).hexdigest() if html or response.body else None


def _charset(data: bytes) -> str | None:
    match = _CHARSET.search(data)
    return match.group(1).decode("ascii").lower() if match else None


def _describe(failure: Failure) -> tuple[int | None, str, bool]:
    """HTTP status, error message, and whether the request was not sent on purpose (robots.txt
    forbids it, it redirects off the site): a skip, not a failure of the site."""
    error = failure.value
    if isinstance(error, HttpError):  # a subclass of IgnoreRequest, but a real failure
        return error.response.status, f"HTTP {error.response.status}", False
    message = str(error).strip() or type(error).__name__
    if isinstance(error, IgnoreRequest):
        robots = "robots.txt" in message.lower()
        return None, "disallowed by robots.txt" if robots else message, True
    return None, f"{type(error).__name__}: {message}", False


class ExitPracticesSpider(scrapy.Spider):
    """Crawl the Exit Practices site from its start page: menu, category pages, programme pages.

    Arguments: ``-a start_url=URL`` (default: the live site).

    When the latest version allows it, a run starts with a quick check (:mod:`exitscrape.recheck`):
    the pages that version met are asked for again and only compared; the site is crawled only
    when one of them answers differently.
    """

    name = "exit_practices"

    def __init__(self, start_url: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.start_url = start_url or DEFAULT_START_URL
        parts = urlsplit(self.start_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"start_url must be an http(s) URL, got {self.start_url!r}")
        self.site = site_key(self.start_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        # OffsiteMiddleware also drops redirects that leave the site.
        self.allowed_domains = [self.site[0]]
        self._menu_read = False
        self.quick_check: QuickCheck | None = None
        self._crawling = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ExitPracticesSpider:
        spider: ExitPracticesSpider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.quick_check = QuickCheck.load(self.settings, self.start_url)
        if self.quick_check is None:
            yield self._start_request()
            return
        self.logger.info(
            "Quick check: asking again for the %d pages of the last full crawl (version %s)",
            len(self.quick_check.pages),
            self.quick_check.version,
        )
        for url in self.quick_check.pages:
            yield self._recheck_request(url)

    @property
    def crawling(self) -> bool:
        """The crawl has begun: no quick check, or one that found a difference. Quick-check
        requests still queued are then dropped (QuickCheckMiddleware): the crawl asks for those
        pages itself, so a site that changed everywhere costs one crawl, not a check and a crawl.
        """
        return self._crawling

    def _start_request(self) -> scrapy.Request:
        self._crawling = True
        request = self._request(self.start_url, referer=None)
        request.meta["start"] = True
        return request

    def _request(self, url: str, referer: str | None) -> scrapy.Request:
        meta: dict[str, Any] = {"referer_url": referer}
        if self.quick_check is not None and self.quick_check.confirmed.get(url):
            meta[CONFIRMED] = self.quick_check.confirmed[url]
        if _looks_like_page(url):
            return scrapy.Request(url, callback=self.parse, errback=self.failed, meta=meta)
        return scrapy.Request(
            url, method="HEAD", callback=self.parse_other, errback=self.failed, meta=meta
        )

    def on_site(self, url: str) -> str | None:
        """*url* on the start URL's scheme and host when it belongs to the site, else ``None``.

        Links to ``http://`` or a ``www.``-less host of an https site would only redirect.
        """
        if site_key(url) != self.site:
            return None
        parts = urlsplit(url)
        return self._origin + url[len(f"{parts.scheme}://{parts.netloc}") :]

    def _on_site(self, urls: list[str]) -> list[str]:
        """The on-site URLs among *urls* (see :meth:`on_site`), deduplicated, in order."""
        return list(dict.fromkeys(u for u in map(self.on_site, urls) if u is not None))

    def _follow(self, urls: list[str], referer: str) -> Iterator[scrapy.Request]:
        for url in urls:
            yield self._request(url, referer)

    def _page(self, response: Response, **fields: Any) -> PageItem:
        redirects = response.request.meta.get("redirect_urls") if response.request else None
        content_type = response.headers.get(b"Content-Type")
        etag, last_modified = response.headers.get(b"ETag"), response.headers.get(b"Last-Modified")
        return PageItem(
            url=redirects[0] if redirects else response.url,
            final_url=response.url,
            status=response.status,
            fetched_at=_now(),
            content_type=content_type.decode("latin-1").split(";")[0].strip().lower()
            if content_type
            else None,
            referer=response.meta.get("referer_url"),
            etag=etag.decode("latin-1") if etag else None,
            last_modified=last_modified.decode("latin-1") if last_modified else None,
            **fields,
        )

    def parse(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse) or not self._is_html(response):
            yield from self.parse_other(response)
            return
        response = _decoded(response)
        if response.meta.get("start") and self.on_site(response.url):
            # The start URL redirected within the site (http to https, say): follow its lead.
            parts = urlsplit(response.url)
            self._origin = f"{parts.scheme}://{parts.netloc}"
        digest = _body_sha256(response, html=True)
        if b"\x00" in response.body:  # no HTML page holds NUL bytes: binary served as HTML
            self.logger.warning("Failed %s: binary content served as HTML", response.url)
            yield self._page(response, body_sha256=digest, error="binary content served as HTML")
            return
        menu_read = self._menu_read
        try:
            results = list(self._parse_html(response, digest))
        except Exception as error:  # a hostile page (nested 10,000 deep, say) fails alone
            self._menu_read = menu_read  # its menu, if read, was lost with it: read the next
            self.logger.warning("Failed %s: cannot parse it: %r", response.url, error)
            yield self._page(
                response,
                body_sha256=digest,
                error=f"cannot parse the page: {type(error).__name__}: {error}",
            )
            return
        yield from results

    def _parse_html(self, response: TextResponse, digest: str | None) -> Iterator[Any]:
        if not self._menu_read:
            yield from self._read_menu(response)
        page = ProgrammePage(response.selector)
        links = self._on_site(content_links(response.selector, response.url))
        if page.is_programme:
            yield ProgrammeItem(
                url=response.url,
                fetched_at=_now(),
                title=page.title,
                name=page.name,
                country=page.country,
                target_audience=page.target_audience,
                organisation=page.organisation,
                objectives=page.objectives,
                description=page.description,
            )
        yield self._page(response, body_sha256=digest, is_programme=page.is_programme, links=links)
        yield from self._follow(links, response.url)

    def _read_menu(self, response: TextResponse) -> Iterator[Any]:
        """The category tree from the first page that has a menu; then follow the menu."""
        entries = read_menu(response.selector, response.url)
        if not entries:
            return
        self._menu_read = True
        categories = {}
        for entry in entries:
            url, category = self.on_site(entry.url), category_of(entry.path)
            if url and category:
                categories[url] = category
        links = self._on_site([entry.url for entry in entries])
        yield MenuItem(url=response.url, categories=categories, links=links)
        yield from self._follow(links, response.url)

    def parse_other(self, response: Response) -> Iterator[PageItem]:
        """A response that is not a web page (a PDF, an image): recorded, not parsed."""
        item = self._page(response)
        if item.content_type is None:
            item.content_type = mimetypes.guess_type(response.url)[0]
        item.body_sha256 = _body_sha256(response, html=False)
        yield item

    @staticmethod
    def _is_html(response: TextResponse) -> bool:
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        return not content_type or any(t in content_type for t in _HTML_TYPES)

    def _recheck_request(self, url: str, method: str | None = None) -> scrapy.Request:
        assert self.quick_check is not None
        planned = self.quick_check.pages[url]
        headers = {}
        if planned.etag:
            headers["If-None-Match"] = planned.etag
        if planned.last_modified:
            headers["If-Modified-Since"] = planned.last_modified
        return scrapy.Request(
            url,
            method=method or ("GET" if _looks_like_page(url) else "HEAD"),
            headers=headers,
            callback=self.rechecked,
            errback=self.recheck_failed,
            # Past the cache, which would answer a 304 with its copy: the plan has the answer.
            meta={"recheck_url": url, "dont_cache": True, "handle_httpstatus_list": [304]},
            dont_filter=True,  # the crawl, if one follows, must still be able to ask for it
        )

    def rechecked(self, response: Response) -> Iterator[scrapy.Request]:
        """A quick-check answer: compared with the last full crawl's, never parsed."""
        assert self.quick_check is not None
        url = response.meta["recheck_url"]
        if response.status == 304:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("httpcache/revalidate")  # as the cache counts a 304
            answer = self.quick_check.not_modified_answer(url, response.url)
        else:
            html = isinstance(response, TextResponse) and self._is_html(response)
            answer = Answer(response.url, response.status, _body_sha256(response, html))
        yield from self._compare(url, answer)

    def recheck_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        if self._crawling:  # dropped once the crawl began, or too late to matter
            return
        request = failure.request  # type: ignore[attr-defined]
        status, error, _ = _describe(failure)
        if request.method == "HEAD" and status in (405, 501):  # as failed() does
            yield self._recheck_request(request.meta["recheck_url"], method="GET")
            return
        final_url = request.url if request.meta.get("redirect_urls") else None
        yield from self._compare(
            request.meta["recheck_url"], Answer(final_url, status, None, error)
        )

    def _compare(self, url: str, answer: Answer) -> Iterator[scrapy.Request]:
        assert self.quick_check is not None
        if self.quick_check.observe(url, answer) and not self._crawling:
            self.logger.info("Quick check: %s; crawling the site", self.quick_check.changed)
            yield self._start_request()

    def idle(self) -> None:
        """Crawl when the quick check ended without a verdict (an answer went missing)."""
        check = self.quick_check
        if check is None or self._crawling or check.unchanged:
            return
        self.logger.info(
            "Quick check: %d of %d pages answered; crawling the site",
            len(check.confirmed),
            len(check.pages),
        )
        assert self.crawler.engine is not None
        self.crawler.engine.crawl(self._start_request())
        raise DontCloseSpider

    def failed(self, failure: Failure) -> Iterator[PageItem | scrapy.Request]:
        """A request that ended in an error (after retries): recorded with the reason."""
        request = failure.request  # type: ignore[attr-defined]
        status, error, skipped = _describe(failure)
        if request.method == "HEAD" and status in (405, 501):  # a server that refuses HEAD
            yield request.replace(method="GET", callback=self.parse_other)
            return
        redirects = request.meta.get("redirect_urls")
        if not skipped:
            self.logger.warning("Failed %s: %s", request.url, error)
        yield PageItem(
            url=redirects[0] if redirects else request.url,
            final_url=request.url if redirects else None,
            status=status,
            fetched_at=_now(),
            referer=request.meta.get("referer_url"),
            error=error,
            skipped=skipped,
        )

"""Downloader middlewares of the ``exit_practices`` spider."""

from __future__ import annotations

from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response


class OffsiteRedirectMiddleware:
    """A redirect that leaves the site fails the request, with the reason.

    Scrapy's OffsiteMiddleware drops such redirects silently (no errback), and the dataset must
    record every URL the crawl met: this turns them into a failure the spider records.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        on_site = getattr(self.crawler.spider, "on_site", None)
        if 300 <= response.status < 400 and location and on_site is not None:
            target = urljoin(request.url, location.decode("latin-1"))
            if on_site(target) is None:
                raise IgnoreRequest(f"redirect to {target}, off the site: not followed")
        return response


class QuickCheckMiddleware:
    """Drops quick-check requests still queued once the crawl has begun (the spider's
    ``crawling``): the crawl asks for those pages itself (see :mod:`exitscrape.recheck`)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuickCheckMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if "recheck_url" in request.meta and getattr(self.crawler.spider, "crawling", False):
            raise IgnoreRequest("the quick check is over: the crawl asks for this page")

"""Redirects that would leave the site."""

from __future__ import annotations

from urllib.parse import urljoin

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from exitscrape.spiders.scope import scope_of


class OffsiteRedirectMiddleware:
    """A redirect that leaves the site fails the request, with the reason.

    Scrapy's OffsiteMiddleware drops such redirects silently (no errback), and the dataset must
    record every URL the crawl met: this turns them into a failure the spider records. It must
    see responses before RedirectMiddleware (600) does, so it sits nearer the downloader.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if 300 <= response.status < 400 and location:
            target = urljoin(request.url, location.decode("latin-1"))
            if scope_of(self.crawler).admit(target) is None:
                raise IgnoreRequest(f"redirect to {target}, off the site: not followed")
        return response

"""What exitscrape's components read of the running spider, declared: the site it crawls, and
how it follows links."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from exitscrape.spiders.scope import SiteScope


class OffSiteRequest(IgnoreRequest):
    """A request the site's scope does not admit, refused before it was sent; the message says
    how it was reached (:mod:`exitscrape.downloadermiddlewares.offsite`)."""


class SiteSpider(scrapy.Spider):
    """A spider that crawls one site. Its :class:`SiteScope` is what exitscrape's components
    read of the running spider (see :func:`scope_of`)."""

    scope: SiteScope

    def follow(self, urls: Iterable[str], referer: str) -> Iterator[scrapy.Request]:
        """The requests the spider sends for *urls*, linked from the page *referer*."""
        raise NotImplementedError


def site_spider(crawler: Crawler) -> SiteSpider:
    """The crawler's spider, which exitscrape's components need to be a :class:`SiteSpider`."""
    spider = crawler.spider
    if not isinstance(spider, SiteSpider):
        raise TypeError(f"exitscrape's components need a SiteSpider, not {spider!r}")
    return spider


def scope_of(crawler: Crawler) -> SiteScope:
    """The site the crawler's spider crawls."""
    return site_spider(crawler).scope

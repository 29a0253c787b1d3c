"""What exitscrape's components read of the running spider, declared: the site it crawls."""

from __future__ import annotations

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


def scope_of(crawler: Crawler) -> SiteScope:
    """The site the crawler's spider crawls."""
    spider = crawler.spider
    if not isinstance(spider, SiteSpider):
        raise TypeError(f"exitscrape's components need a SiteSpider, not {spider!r}")
    return spider.scope

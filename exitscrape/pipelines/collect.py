"""Collect pipeline: gathers everything the crawl met into :class:`CrawlRecords` (programme
items spooled to disk), for the publish extension to assemble when the spider closes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler

from exitscrape.dataset.records import CrawlRecords
from exitscrape.items import PageItem
from exitscrape.spiders.meta import FETCHED_AT, REFERER, WARC_RECORD_ID
from exitscrape.spiders.responses import capture_fields


class CollectPipeline:
    """``records`` holds the crawl's menu, pages and programme items."""

    def __init__(self, crawler: Crawler) -> None:
        self.records = CrawlRecords()
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CollectPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        self.records.add(item)
        return item

    def request_dropped(self, request: Request) -> None:
        """A redirect to a page already crawled: the duplicate filter drops it without a
        callback, so record the redirecting URL here."""
        redirects = request.meta.get("redirect_urls")
        if redirects:
            # One redirect: the request carries its capture; after several, the last one's.
            one_hop = len(redirects) == 1
            self.records.add(
                PageItem(
                    url=redirects[0],
                    final_url=request.url,
                    status=(request.meta.get("redirect_reasons") or [None])[0],
                    fetched_at=(one_hop and request.meta.get(FETCHED_AT)) or datetime.now(UTC),
                    referer=request.meta.get(REFERER),
                    warc_record_id=request.meta.get(WARC_RECORD_ID) if one_hop else None,
                    **capture_fields(request.meta),
                )
            )

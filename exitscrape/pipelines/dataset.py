"""Dataset pipeline: gathers the crawl's records and publishes a version when the spider closes.

Publishing waits for ``spider_closed`` (not ``close_spider``) to know the finish reason: a crawl
that did not finish, or found no programme, publishes nothing and says why in the stats
(``exitscrape/outcome``, ``exitscrape/reason``): ``exitscrape crawl`` exits non-zero on it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler

import exitscrape
from exitscrape.dataset.assemble import CrawlRecords, assemble
from exitscrape.dataset.store import DatasetStore, resolve_data_dir
from exitscrape.items import PageItem

logger = logging.getLogger(__name__)

#: Crawl stats copied into the manifest.
MANIFEST_STATS = (
    "start_time",
    "finish_time",
    "finish_reason",
    "elapsed_time_seconds",
    "downloader/request_count",
    "downloader/response_count",
    "item_scraped_count",
    "log_count/ERROR",
    "retry/count",
    "httpcache/hit",
    "httpcache/miss",
)


class DatasetPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.store = DatasetStore(resolve_data_dir(crawler.settings.get("EXITSCRAPE_DATA_DIR")))
        self.records = CrawlRecords()
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DatasetPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        self.records.add(item)
        return item

    def request_dropped(self, request: Request) -> None:
        """A redirect to a page already crawled: the duplicate filter drops it without a
        callback, so record the redirecting URL here."""
        redirects = request.meta.get("redirect_urls")
        if redirects:
            self.records.add(
                PageItem(
                    url=redirects[0],
                    final_url=request.url,
                    status=(request.meta.get("redirect_reasons") or [None])[0],
                    fetched_at=datetime.now(UTC),
                    referer=request.meta.get("referer_url"),
                )
            )

    def _outcome(self, outcome: str, reason: str | None = None, **values: Any) -> None:
        stats = self.crawler.stats
        assert stats is not None
        stats.set_value("exitscrape/outcome", outcome)
        if reason:
            stats.set_value("exitscrape/reason", reason)
        for key, value in values.items():
            stats.set_value(f"exitscrape/{key}", value)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        assert stats is not None
        tables = assemble(self.records)
        kinds = tables.pages.column("kind").to_pylist()
        failures = [
            f"{row['url']}: {row['error']}" for row in tables.pages.to_pylist() if row["error"]
        ]
        self._outcome(
            "pending",
            pages=len(kinds),
            programmes=tables.programmes.num_rows,
            failed_pages=kinds.count("failed"),
            warnings=tables.warnings,
            problems=failures,
        )
        for warning in tables.warnings:
            logger.warning(warning)
        if reason != "finished":
            self._outcome("failed", f"the crawl did not finish (finish reason: {reason})")
            return
        if tables.programmes.num_rows == 0:
            start = getattr(spider, "start_url", None)
            errors = {row["url"]: row["error"] for row in tables.pages.to_pylist()}
            reason = "no programme page was crawled successfully"
            if errors.get(start) or not kinds:
                reason += f" (the start page {start} failed: {errors.get(start, 'no response')})"
            self._outcome("failed", reason)
            return
        all_stats = stats.get_stats()
        manifest = {
            "start_url": getattr(spider, "start_url", None),
            "exitscrape_version": exitscrape.__version__,
            "crawl_stats": {k: all_stats[k] for k in MANIFEST_STATS if k in all_stats},
            "pages_by_kind": {kind: kinds.count(kind) for kind in sorted(set(kinds))},
        }
        try:
            version = self.store.publish(tables.as_dict, tables.digest, manifest)
        except OSError as error:
            self._outcome("failed", f"could not write the dataset to {self.store.root}: {error}")
            return
        if version is None:
            self._outcome("unchanged", version=self.store.latest())
        else:
            self._outcome("published", version=version)
        logger.info("Dataset %s: %s", stats.get_value("exitscrape/outcome"), self.store.root)

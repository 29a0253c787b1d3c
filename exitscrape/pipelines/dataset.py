"""Dataset pipeline: gathers the crawl's records and publishes a version when the spider closes.

Publishing waits for ``spider_closed`` (not ``close_spider``) to know the finish reason: a crawl
that did not finish, or found no programme, publishes nothing and says why in the stats
(``exitscrape/outcome``, ``exitscrape/reason``): ``exitscrape crawl`` exits non-zero on it.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler

import exitscrape
from exitscrape.dataset.assemble import CrawlRecords, assemble
from exitscrape.dataset.store import DatasetStore, resolve_data_dir

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

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DatasetPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        self.records.add(item)
        return item

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
        self._outcome(
            "pending",
            pages=len(kinds),
            programmes=tables.programmes.num_rows,
            failed_pages=kinds.count("failed"),
            warnings=tables.warnings,
        )
        for warning in tables.warnings:
            logger.warning(warning)
        if reason != "finished":
            self._outcome("failed", f"the crawl did not finish (finish reason: {reason})")
            return
        if tables.programmes.num_rows == 0:
            self._outcome("failed", "no programme page was crawled successfully")
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

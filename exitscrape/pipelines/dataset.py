"""Dataset pipeline: gathers the crawl's records and publishes a version when the spider closes.

A run holds the data dir's lock (:mod:`exitscrape.runlock`) from the spider's opening to the end
of publishing; a second run on the same data dir closes at once with outcome ``locked``.
Publishing waits for ``spider_closed`` (not ``close_spider``) to know the finish reason. Before
anything is published the quality gates (:mod:`exitscrape.dataset.quality`) judge the crawl
against the previous version; a failing gate publishes nothing unless ``EXITSCRAPE_FORCE``.
The result is in the stats (``exitscrape/outcome``: published, unchanged, gate_failed, failed or
locked, with ``exitscrape/reason``), which ``exitscrape crawl`` turns into its exit status, and
every run, whatever its outcome, leaves a report in ``<data-dir>/runs/``.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider

import exitscrape
from exitscrape import recheck, runreport
from exitscrape.dataset.assemble import CrawlRecords, Tables, assemble
from exitscrape.dataset.quality import Thresholds, check
from exitscrape.dataset.store import DatasetError, DatasetStore, resolve_data_dir
from exitscrape.items import PageItem
from exitscrape.runlock import LockBusy, RunLock

logger = logging.getLogger(__name__)

#: Crawl stats copied into the manifest and the run report.
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
    "httpcache/miss",
    "httpcache/revalidate",
    "httpcache/invalidate",
    "httpcache/store",
)


def failed_by_reason(tables: Tables) -> dict[str, int]:
    """Failed pages counted by the kind of error (``HTTP 503``, ``TimeoutError``, ...)."""
    errors = [
        error.split(":")[0]
        for kind, error in zip(
            tables.pages.column("kind").to_pylist(),
            tables.pages.column("error").to_pylist(),
            strict=True,
        )
        if kind == "failed" and error
    ]
    return dict(sorted(Counter(errors).items()))


class DatasetPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.store = DatasetStore(resolve_data_dir(crawler.settings.get("EXITSCRAPE_DATA_DIR")))
        self.records = CrawlRecords()
        self.started = datetime.now(UTC)
        self.run_id = runreport.run_id(self.started)
        self.lock = RunLock(self.store.root)
        self.locked_out = False
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.request_dropped, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DatasetPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        try:
            self.lock.acquire()
        except LockBusy as error:
            self.locked_out = True
            self._outcome("locked", str(error))
            logger.error("%s", error)
            raise CloseSpider("lock_busy") from None
        except OSError as error:
            self.locked_out = True
            self._outcome("failed", f"cannot use the data dir {self.store.root}: {error}")
            raise CloseSpider("data_dir_unusable") from None

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
        try:
            if not self.locked_out:
                self._publish(spider, reason)
        except Exception as error:  # the run must still end with an outcome and a report
            logger.exception("Publishing failed")
            self._outcome("failed", f"internal error while publishing: {error!r}")
        finally:
            self._report(spider, reason)
            if not self.locked_out:
                self.lock.release()

    def _previous(self) -> pa.Table | None:
        latest = self.store.latest()
        if latest is None:
            return None
        try:
            return self.store.read("programmes", latest)
        except (OSError, DatasetError, pa.ArrowException) as error:
            logger.warning("Cannot read version %s to compare with: %s", latest, error)
            return None

    def _publish(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        assert stats is not None
        settings = self.crawler.settings
        quick_check: recheck.QuickCheck | None = getattr(spider, "quick_check", None)
        if quick_check is not None:
            stats.set_value("exitscrape/quick_check", quick_check.as_stats())
            if quick_check.unchanged and reason == "finished":
                self._outcome(
                    "unchanged",
                    f"quick check: all {len(quick_check.pages)} pages answered as they did in "
                    f"the last full crawl (version {quick_check.version})",
                    version=quick_check.version,
                    pages=len(quick_check.pages),
                    programmes=quick_check.programmes,
                    failed_pages=quick_check.failed_pages,
                    problems=quick_check.problems,
                )
                return
        tables = assemble(self.records)
        kinds = tables.pages.column("kind").to_pylist()
        errors = dict(
            zip(
                tables.pages.column("url").to_pylist(),
                tables.pages.column("error").to_pylist(),
                strict=True,
            )
        )
        failures = [f"{url}: {error}" for url, error in errors.items() if error]
        self._outcome(
            "pending",
            pages=len(kinds),
            programmes=tables.programmes.num_rows,
            failed_pages=kinds.count("failed"),
            failed_by_reason=failed_by_reason(tables),
            warnings=tables.warnings,
            problems=failures,
        )
        for warning in tables.warnings:
            logger.warning(warning)
        gates = check(tables, self._previous(), reason, Thresholds.from_settings(settings))
        stats.set_value("exitscrape/gates", [gate.as_dict() for gate in gates])
        failed = [gate for gate in gates if not gate.passed]
        if tables.programmes.num_rows == 0:
            start = getattr(spider, "start_url", None)
            message = "no programme page was crawled successfully"
            if errors.get(start) or not kinds:
                message += f" (the start page {start} failed: {errors.get(start, 'no response')})"
            self._outcome("failed", message)
            return
        forced = settings.getbool("EXITSCRAPE_FORCE")
        if failed and not forced:
            self._outcome(
                "gate_failed",
                "; ".join(f"quality gate {gate.gate} failed: {gate.message}" for gate in failed),
            )
            return
        if failed:
            stats.set_value("exitscrape/forced", [gate.gate for gate in failed])
            for gate in failed:
                logger.warning("Publishing despite failed gate %s: %s", gate.gate, gate.message)
        all_stats = stats.get_stats()
        manifest = {
            "start_url": getattr(spider, "start_url", None),
            "exitscrape_version": exitscrape.__version__,
            "run_id": self.run_id,
            "crawl_stats": {k: all_stats[k] for k in MANIFEST_STATS if k in all_stats},
            "pages_by_kind": {kind: kinds.count(kind) for kind in sorted(set(kinds))},
            "quality_gates": [gate.as_dict() for gate in gates],
            "forced": [gate.gate for gate in failed] if failed else None,
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
        if reason == "finished":
            recheck.write_plan(
                settings,
                version=str(self.store.latest()),
                start_url=getattr(spider, "start_url", ""),
                rows=tables.pages.select(list(recheck.PLAN_COLUMNS)).to_pylist(),
                page_items=self.records.pages,
                programmes=tables.programmes.num_rows,
            )
        logger.info("Dataset %s: %s", stats.get_value("exitscrape/outcome"), self.store.root)

    def _report(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        assert stats is not None
        values = stats.get_stats()
        outcome = values.get("exitscrape/outcome", "failed")
        changed, overridden = runreport.non_default_settings(self.crawler.settings)
        finished = datetime.now(UTC)
        report = {
            "run_id": self.run_id,
            "started_at": self.started.isoformat(timespec="seconds"),
            "finished_at": finished.isoformat(timespec="seconds"),
            "duration_seconds": round((finished - self.started).total_seconds(), 3),
            "pid": os.getpid(),
            "start_url": getattr(spider, "start_url", None),
            "data_dir": str(self.store.root.resolve()),
            "exitscrape_version": exitscrape.__version__,
            "outcome": outcome,
            "version": values.get("exitscrape/version") if outcome == "published" else None,
            "latest": self.store.latest(),
            "reason": values.get("exitscrape/reason")
            or ("the data equals the latest version's" if outcome == "unchanged" else None),
            "forced": values.get("exitscrape/forced", []),
            "finish_reason": reason,
            "pages": {
                "requests": values.get("downloader/request_count", 0),
                "responses": values.get("downloader/response_count", 0),
                "revalidated": values.get("httpcache/revalidate", 0),
                "downloaded": values.get("downloader/response_count", 0)
                - values.get("httpcache/revalidate", 0),
                "met": values.get("exitscrape/pages", 0),
                "failed": values.get("exitscrape/failed_pages", 0),
                "failed_by_reason": values.get("exitscrape/failed_by_reason", {}),
            },
            "programmes": values.get("exitscrape/programmes", 0),
            "gates": values.get("exitscrape/gates", []),
            "quick_check": values.get("exitscrape/quick_check"),
            "settings": changed,
            "overridden_settings": overridden,
            "crawl_stats": {k: values[k] for k in MANIFEST_STATS if k in values},
        }
        try:
            path = runreport.write(self.store.root, report)
        except OSError as error:
            logger.error("Could not write the run report to %s: %s", self.store.root, error)
            return
        stats.set_value("exitscrape/report", str(path))

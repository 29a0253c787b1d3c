"""A one-line progress display on a terminal: pages done and queued, programmes found.

Pages done are the URLs met so far, counted as the summary and the pages table count them
(:attr:`~exitscrape.dataset.records.CrawlRecords.page_urls`), so the last line and the summary
agree.

Shown only when stderr is a terminal and the log is quieter than INFO (``EXITSCRAPE_PROGRESS =
"auto"``), so cron mails, CI logs and scrapyd log files never get it; ``"on"`` / ``"off"``
force it. The line is redrawn in place at most a few times a second.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from exitscrape.dataset.wording import plural
from exitscrape.incremental.middleware import QuickCheckMiddleware
from exitscrape.items import ProgrammeItem
from exitscrape.pipelines.collect import CollectPipeline

#: Seconds between redraws: enough to look live, few enough to cost nothing.
REDRAW_EVERY = 0.25


def wanted(mode: str, stream: TextIO, log_level: str | int) -> bool:
    """Whether to show progress for an ``EXITSCRAPE_PROGRESS`` *mode*."""
    mode = str(mode).lower()
    if mode in ("on", "true", "1"):
        return True
    if mode in ("off", "false", "0"):
        return False
    level = logging.getLevelName(log_level) if isinstance(log_level, str) else log_level
    return stream.isatty() and isinstance(level, int) and level > logging.INFO


class Progress:
    def __init__(self, crawler: Crawler, stream: TextIO) -> None:
        self.crawler = crawler
        self.stream = stream
        self.programmes: set[tuple[str, str]] = set()
        self._quick_check: QuickCheckMiddleware | None = None
        self._collect: CollectPipeline | None = None
        self._drawn = 0.0
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        settings = crawler.settings
        if not wanted(settings.get("EXITSCRAPE_PROGRESS"), sys.stderr, settings["LOG_LEVEL"]):
            raise NotConfigured
        return cls(crawler, sys.stderr)

    def _queued(self) -> int:
        stats = self.crawler.stats
        assert stats is not None
        enqueued: int = stats.get_value("scheduler/enqueued", 0)
        dequeued: int = stats.get_value("scheduler/dequeued", 0)
        return max(
            0,
            enqueued - dequeued,
        )

    def _pages(self) -> int:
        return len(self._collect.records.page_urls) if self._collect is not None else 0

    def line(self) -> str:
        quick_check = self._quick_check
        if quick_check is not None and quick_check.check is not None and not quick_check.crawling:
            check = quick_check.check
            pages = plural(len(check.pages), "page")
            return f"quick check: {len(check.confirmed)} of {pages} as before"
        return (
            f"{plural(self._pages(), 'page')} done, {self._queued()} queued, "
            f"{plural(len(self.programmes), 'programme')} found"
        )

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._drawn >= REDRAW_EVERY:
            self._drawn = now
            self.stream.write(f"\r\x1b[K{self.line()}")
            self.stream.flush()

    def spider_opened(self, **_: Any) -> None:
        self._quick_check = self.crawler.get_spider_middleware(QuickCheckMiddleware)
        self._collect = self.crawler.get_item_pipeline(CollectPipeline)
        # Log lines (warnings about failed pages) must not be glued to the progress line:
        # clear it before each record; the next redraw brings it back.
        for handler in logging.getLogger().handlers:
            handler.addFilter(self.clear_line)

    def clear_line(self, record: logging.LogRecord) -> bool:
        self.stream.write("\r\x1b[K")
        self._drawn = 0.0
        return True

    def response_received(self, **_: Any) -> None:
        self.draw()

    def item_scraped(self, item: Any, **_: Any) -> None:
        if isinstance(item, ProgrammeItem):
            # A programme published at several URLs counts once, as in the dataset.
            self.programmes.add(item.key)
        self.draw()

    def spider_closed(self, **_: Any) -> None:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self.clear_line)
        self.draw(force=True)
        self.stream.write("\n")
        self.stream.flush()

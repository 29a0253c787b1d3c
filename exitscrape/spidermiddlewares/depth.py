"""``DEPTH_LIMIT`` that is recorded and ends the crawl, instead of dropping links silently.

Scrapy's DepthMiddleware drops a request deeper than ``DEPTH_LIMIT`` with one debug line: the
URL never reaches the dataset, and a crawl cut short by a trap (a link generator, a calendar)
looks complete. Here the first such request is recorded in ``pages.parquet`` (kind ``other``,
with the reason) and closes the spider with the finish reason :data:`FINISH_REASON`, which the
``finish_reason`` quality gate fails (:mod:`exitscrape.dataset.quality`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.spidermiddlewares.depth import DepthMiddleware
from scrapy.utils.defer import deferred_from_coro

from exitscrape.items import PageItem
from exitscrape.spiders.meta import REFERER

#: The finish reason of a crawl stopped by ``DEPTH_LIMIT``.
FINISH_REASON = "depth_limit"


class DepthLimitMiddleware(DepthMiddleware):
    """See the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._too_deep: list[Request] = []

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        processed = super().get_processed_request(request, response)
        if processed is None and self.maxdepth and request.meta.get("depth", 0) > self.maxdepth:
            self._too_deep.append(request)
        return processed

    def _recorded(self) -> Iterator[PageItem]:
        """A page row for each request just dropped; the first one closes the spider."""
        dropped, self._too_deep = self._too_deep, []
        for request in dropped:
            yield PageItem(
                url=request.url,
                final_url=None,
                status=None,
                fetched_at=datetime.now(UTC),
                referer=request.meta.get(REFERER),
                error=f"deeper than DEPTH_LIMIT ({self.maxdepth} links from the start page): "
                "not followed, the crawl stopped",
                skipped=True,
            )
        if dropped:
            assert self.crawler.engine is not None
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=FINISH_REASON))

    def process_spider_output(
        self, response: Response | None, result: Iterable[Any], spider: Spider | None = None
    ) -> Iterable[Any]:
        for output in super().process_spider_output(response, result):
            yield from self._recorded()
            yield output
        yield from self._recorded()

    async def process_spider_output_async(
        self,
        response: Response | None,
        result: AsyncIterator[Any],
        spider: Spider | None = None,
    ) -> AsyncIterator[Any]:
        async for output in super().process_spider_output_async(response, result):
            for item in self._recorded():
                yield item
            yield output
        for item in self._recorded():
            yield item

"""One time limit for all the attempts at a URL, and ``Retry-After`` honoured.

* **Time per URL** (``EXITSCRAPE_URL_TIMEOUT``): a URL that drips or never closes costs
  ``DOWNLOAD_TIMEOUT`` on every attempt, three times with Scrapy's retries. Here all the attempts
  at one URL (its retries, its redirects) share one limit, counted from its first attempt: each
  attempt's timeout is cut to the time left, and once none is left the URL fails with
  :class:`URLTimeoutError` instead of being tried again (recorded as a failed page).
* **Retry-After**: a ``503`` or ``429`` that Scrapy's RetryMiddleware will retry is retried no
  sooner than its ``Retry-After`` (seconds or an HTTP date) asks; a wait longer than the URL's
  time left is not waited for: the URL fails at once with its status.

The middleware sits just outside RetryMiddleware (550), so it sees each request after
DownloadTimeoutMiddleware (350) has set its timeout and each answer before RetryMiddleware does.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import sleep

from exitscrape.spiders.meta import FIRST_ATTEMPT

logger = logging.getLogger(__name__)

#: Statuses whose ``Retry-After`` is honoured (RFC 9110 section 10.2.3; RFC 6585 section 4).
RETRY_AFTER_STATUSES = frozenset({429, 503})


class URLTimeoutError(Exception):
    """A URL's attempts used up ``EXITSCRAPE_URL_TIMEOUT``."""


def retry_after(response: Response) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait; ``None`` without a usable one."""
    value = response.headers.get(b"Retry-After")
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class RetryBudgetMiddleware:
    """See the module docstring."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.limit = settings.getfloat("EXITSCRAPE_URL_TIMEOUT")
        self._retry = settings.getbool("RETRY_ENABLED")
        self._retry_times = settings.getint("RETRY_TIMES")
        self._retry_codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBudgetMiddleware:
        return cls(crawler)

    def _time_left(self, request: Request) -> float:
        """Seconds left for the URL (``inf`` without a limit)."""
        if not self.limit:
            return math.inf
        return self.limit - (time.monotonic() - float(request.meta[FIRST_ATTEMPT]))

    def process_request(self, request: Request) -> None:
        request.meta.setdefault(FIRST_ATTEMPT, time.monotonic())
        left = self._time_left(request)
        if left <= 0:
            raise URLTimeoutError(
                f"gave up after {self.limit:g} s and {request.meta.get('retry_times', 0)} "
                "attempts (EXITSCRAPE_URL_TIMEOUT)"
            )
        if left < math.inf:
            request.meta["download_timeout"] = min(
                float(request.meta.get("download_timeout") or math.inf), left
            )

    def _will_retry(self, request: Request, response: Response) -> bool:
        """Whether RetryMiddleware will retry *request* after *response*."""
        limit = request.meta.get("max_retry_times")
        return (
            self._retry
            and not request.meta.get("dont_retry", False)
            and response.status in self._retry_codes
            and request.meta.get("retry_times", 0) < (self._retry_times if limit is None else limit)
        )

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in RETRY_AFTER_STATUSES or not self._will_retry(request, response):
            return response
        wait = retry_after(response)
        if wait is None or wait <= 0:
            return response
        if wait >= self._time_left(request):
            logger.warning(
                "%s answered %d with Retry-After %g s, more than its time left "
                "(EXITSCRAPE_URL_TIMEOUT %g s): not retried",
                request.url,
                response.status,
                wait,
                self.limit,
            )
            request.meta["dont_retry"] = True
            return response
        logger.info("%s answered %d: retrying after %g s", request.url, response.status, wait)
        await sleep(wait)
        return response

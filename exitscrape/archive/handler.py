"""Archive mode's download handler: every site URL is read from its capture in a web archive.

It sits below every downloader middleware, so robots.txt, redirects, site scope and the spider
keep seeing the site's URLs and nothing else. For a request of a site URL it asks the archive
for the raw capture nearest the crawl's time (:attr:`ArchiveSource.replay_at`) and answers
under the site URL:

- a capture (the answer has ``Memento-Datetime``) is the site's answer then, whatever its
  status: a captured 404 is a 404; a captured redirect leads to the site URL its ``Location``
  names (mapped back from the archive's URL when the archive rewrote it), which the redirect
  middleware follows as on the live site. A capture redirecting to its own page (a captured
  ``http://`` to ``https://`` redirect, which the archive indexes as the same page) fails the
  page: the archive would replay it forever.
- the archive moving to another capture of the same page (a redirect without
  ``Memento-Datetime``, as the Wayback Machine sends to a capture's exact time) is followed here,
  at most :data:`MAX_MOVES` times;
- the archive's own 404 is :class:`NotArchived` (a failed page, "not archived");
- the archive busy (429, 502, 503, 504) is asked again up to ``RETRY_TIMES`` times, after its
  ``Retry-After`` (at most :data:`MAX_WAIT` seconds), else after ``EXITSCRAPE_ARCHIVE_BACKOFF``
  seconds doubled each time; any other answer of the archive's own fails the page.

The capture's time and replay URL go to the request's meta
(:data:`exitscrape.spiders.meta.MEMENTO`), set here only: a site cannot forge them with headers.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urljoin

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.misc import build_from_crawler

from exitscrape.archive.addon import archive_source
from exitscrape.archive.replay import (
    RETRY_STATUSES,
    ArchiveError,
    Memento,
    NotArchived,
    format_timestamp,
    parse_memento_datetime,
    retry_after,
    same_page,
)
from exitscrape.spiders import meta

#: Redirects between captures of one page followed for one request.
MAX_MOVES = 5
#: The longest ``Retry-After`` honoured: an archive asking for more fails the page.
MAX_WAIT = 300.0


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class ArchiveDownloadHandler:
    """Scrapy's HTTP/1.1 handler, asked for the archive's captures of the site's URLs."""

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        source = archive_source(crawler)
        if source is None:
            raise NotConfigured("not crawling a web archive (EXITSCRAPE_ARCHIVE is empty)")
        self.source = source
        self.archive = source.archive
        self.http = build_from_crawler(HTTP11DownloadHandler, crawler)
        self.retries = crawler.settings.getint("RETRY_TIMES")
        self.backoff = crawler.settings.getfloat("EXITSCRAPE_ARCHIVE_BACKOFF")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveDownloadHandler:
        return cls(crawler)

    async def download_request(self, request: Request) -> Response:
        request.meta.pop(meta.MEMENTO, None)  # a redirect's request copies the one before
        started = time.monotonic()
        try:
            return await self._read(request)
        finally:
            # What AutoThrottle adapts the delay to: the whole read, waits for the archive too.
            request.meta["download_latency"] = time.monotonic() - started

    async def _read(self, request: Request) -> Response:
        url = self.archive.raw_url(request.url, self.source.replay_at)
        moves = tries = 0
        while True:
            response = await self.http.download_request(request.replace(url=url))
            memento = _header(response, b"Memento-Datetime")
            if memento is not None:
                return self._captured(request, response, url, memento)
            status, location = response.status, _header(response, b"Location")
            target = urljoin(url, location) if location else None
            if 300 <= status < 400 and target:
                if self.archive.between_captures(request.url, target):
                    if moves == MAX_MOVES:
                        raise ArchiveError(
                            f"archive: over {MAX_MOVES} redirects between captures of the page"
                        )
                    moves, url = moves + 1, target
                    continue
                replayed = self.archive.split(target)
                if replayed is not None:  # to another page's capture: the site's redirect
                    return self._as_site(request, response, location=replayed[0])
            if status == 404:
                raise NotArchived(f"not archived: {self.archive.replay} holds no capture of it")
            if status in RETRY_STATUSES and tries < self.retries:
                wait = retry_after(_header(response, b"Retry-After"), datetime.now(UTC))
                wait = self.backoff * 2**tries if wait is None else wait
                if wait > MAX_WAIT:
                    raise ArchiveError(
                        f"archive: HTTP {status}, asked to wait {wait:.0f} s (over {MAX_WAIT:.0f})"
                    )
                await sleep(wait)
                tries += 1
                continue
            where = f" to {target}" if 300 <= status < 400 and target else ""
            raise ArchiveError(f"archive: HTTP {status}{where}, not a capture of the page")

    def _captured(self, request: Request, response: Response, url: str, value: str) -> Response:
        try:
            captured = parse_memento_datetime(value)
        except ValueError as error:
            raise ArchiveError(f"archive: {error}") from None
        capture_url = self.archive.raw_url(request.url, format_timestamp(captured))
        request.meta[meta.MEMENTO] = Memento(captured, capture_url)
        location = _header(response, b"Location")
        if not (300 <= response.status < 400 and location):
            return self._as_site(request, response)
        replayed = self.archive.split(urljoin(url, location))  # rewritten into the archive
        target = replayed[0] if replayed else urljoin(request.url, location)
        if same_page(target, request.url):
            raise ArchiveError(
                f"archive: the capture of {capture_url} redirects to its own page ({target})"
            )
        return self._as_site(request, response, location=target)

    @staticmethod
    def _as_site(request: Request, response: Response, location: str | None = None) -> Response:
        """*response* under the site URL *request* asked for (``Location``: *location*)."""
        if location is None:
            return response.replace(url=request.url)
        headers = response.headers.copy()
        headers[b"Location"] = location.encode("latin-1", "replace")
        return response.replace(url=request.url, headers=headers)

    async def close(self) -> None:
        await self.http.close()

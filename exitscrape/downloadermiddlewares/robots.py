"""robots.txt as RFC 9309 reads it, and its ``Crawl-delay``.

Scrapy's :class:`~scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware`, changed where it
departs from RFC 9309 (section 2.3.1) or ignores what the site asks:

* **Unreachable** (a 5xx answer after retries, or no answer: refused connection, DNS failure,
  timeout): Scrapy allows everything; RFC 9309 says to assume a complete disallow. Every request
  to the site is then refused with the reason, so nothing is crawled and the run fails (exit 1),
  its message naming robots.txt.
* **Unavailable** (4xx): everything is allowed, as RFC 9309 says; Scrapy parsed the error page
  as if it were rules.
* **Size**: Scrapy cancels a robots.txt larger than ``DOWNLOAD_MAXSIZE`` and then allows
  everything, even when it starts with ``Disallow: /``; here the download stops after
  :data:`MAX_BYTES` (500 KiB, the least RFC 9309 asks a crawler to parse), and those are parsed,
  up to their last complete line.
* **Crawl-delay** for our user agent becomes the least delay between requests to the site
  (Scrapy ignores it): the site's download slot waits at least that long, without jitter, and
  AutoThrottle never goes below it. A delay above ``EXITSCRAPE_MAX_CRAWL_DELAY`` is read as that
  maximum, with a warning.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import robotstxt
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached

from exitscrape.archive.replay import NotArchived
from exitscrape.extensions.outcome import SUMMARISED

logger = logging.getLogger(__name__)

#: How much of a robots.txt is read: RFC 9309 asks crawlers to parse at least 500 KiB.
MAX_BYTES = 500 * 1024
#: Marks the download of a robots.txt (set by :meth:`RobotsTxtMiddleware.process_request`).
_READING = "exitscrape_robots_txt"


class RobotsTxtUnreachable(IgnoreRequest):
    """robots.txt could not be fetched: RFC 9309 says the whole site is disallowed."""


def _is_robots_txt(request: Request) -> bool:
    """The request Scrapy's middleware sends for a site's robots.txt."""
    return (
        request.callback is NO_CALLBACK
        and bool(request.meta.get("dont_obey_robotstxt"))
        and urlparse_cached(request).path == "/robots.txt"
    )


def first_part(body: bytes) -> bytes:
    """The part of a robots.txt that is read: its first :data:`MAX_BYTES`, cut after the last
    complete line when the file is longer."""
    if len(body) <= MAX_BYTES:
        return body
    head = body[:MAX_BYTES]
    return head[: head.rfind(b"\n") + 1]


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    """See the module docstring. ``crawl_delay`` is the delay robots.txt asked for, as applied
    (``None`` when it asked for none)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self._user_agent: str = settings["ROBOTSTXT_USER_AGENT"] or settings["USER_AGENT"]
        self._max_crawl_delay = settings.getfloat("EXITSCRAPE_MAX_CRAWL_DELAY")
        self._unreachable: dict[str, str] = {}  # netloc -> why
        self.crawl_delay: float | None = None
        crawler.signals.connect(self._read_in_part, signal=signals.bytes_received)
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        if _is_robots_txt(request):
            # No size limit for robots.txt: _read_in_part stops the download instead.
            request.meta["download_maxsize"] = 0
            request.meta[_READING] = 0
            return
        await super().process_request(request)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        why = self._unreachable.get(urlparse_cached(request).netloc)
        if why is not None:
            raise RobotsTxtUnreachable(
                f"robots.txt unreachable ({why}): RFC 9309 says to assume the whole site is "
                "disallowed"
            )
        super().process_request_2(rp, request)

    async def allows(self, url: str) -> bool:
        """Whether robots.txt lets the crawler fetch *url* (read first, when it was not yet)."""
        request = Request(url)
        parser = await self.robot_parser(request)
        if urlparse_cached(request).netloc in self._unreachable:
            return False
        return parser is None or parser.allowed(url, self._user_agent)

    def _read_in_part(self, data: bytes, request: Request, **_: Any) -> None:
        if _READING in request.meta:
            request.meta[_READING] += len(data)
            if request.meta[_READING] >= MAX_BYTES:
                raise StopDownload(fail=False)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._set_unreachable(netloc, f"HTTP {response.status}")
            response = response.replace(body=b"")
        elif not 200 <= response.status < 300:  # unavailable: no rules
            response = response.replace(body=b"")
        elif len(response.body) > MAX_BYTES or "download_stopped" in response.flags:
            logger.warning(
                "robots.txt of %s is larger than %d KiB: only its first %d KiB are read",
                netloc,
                MAX_BYTES // 1024,
                MAX_BYTES // 1024,
            )
            response = response.replace(body=first_part(response.body))
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        # Not fetched on purpose (off the site), or an archive holding no capture of it (archive
        # mode; as a 404 would): no rules. Anything else: unreachable.
        if not isinstance(exc, IgnoreRequest | NotArchived):
            self._set_unreachable(netloc, f"{type(exc).__name__}: {str(exc).strip()}".rstrip(": "))
        super()._robots_error(exc, netloc)

    def _set_unreachable(self, netloc: str, why: str) -> None:
        self._unreachable[netloc] = why
        logger.error(
            "robots.txt of %s is unreachable (%s): RFC 9309 says to assume the whole site is "
            "disallowed, so nothing there is crawled",
            netloc,
            why,
            extra={SUMMARISED: True},  # the run's failure names it
        )

    def _robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        delay = robotparser.crawl_delay(self._user_agent)
        if delay is None or not delay > 0:  # none, negative, not a number
            return
        if delay > self._max_crawl_delay:
            logger.warning(
                "robots.txt asks for a Crawl-delay of %g s: waiting %g s between requests "
                "(EXITSCRAPE_MAX_CRAWL_DELAY)",
                delay,
                self._max_crawl_delay,
            )
            delay = self._max_crawl_delay
        self.crawl_delay = delay
        logger.info("robots.txt asks for a Crawl-delay of %g s between requests", delay)
        assert self.crawler.engine is not None
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay, slot.jitter = max(slot.delay, delay), 0.0
        # A slot made again later (Scrapy drops idle ones) starts from the same floor.
        downloader.per_slot_settings[key] = {
            **downloader.per_slot_settings.get(key, {}),
            "delay": slot.delay if slot is not None else delay,
            "jitter": 0.0,
        }
        throttle = self.crawler.get_extension(AutoThrottle)
        if throttle is not None:
            throttle.mindelay = max(throttle.mindelay, delay)

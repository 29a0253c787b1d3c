"""Replay: a crawl answered from a version's captures instead of the network.

``exitscrape rebuild`` runs the spider, the page objects and the pipelines exactly as a crawl
does, with :class:`ReplayHandler` as the download handler of every scheme a crawl could reach:
each request (robots.txt included) is answered with the last response the captures hold for
its method and URL, as it was received (redirects, errors, compressed bodies: the middlewares read
them as they did during the crawl). A request the captures lack fails with :class:`NotCaptured`
("not captured"), recorded as a failed page. Nothing is sent over the network, no HTTP cache is
read and no quick check runs: the version's own files are all a rebuild needs.

The settings that shaped the crawl (robots.txt, the User-Agent it matches, redirects, retries,
size limits: :data:`~exitscrape.evidence.writer.RESULT_SETTINGS`) are read back from the captures'
warcinfo and applied again (:func:`replay_settings`); nothing else in the captures is.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from exitscrape.evidence.reader import CaptureInfo, open_captures, read_index, read_response
from exitscrape.evidence.writer import CAPTURES_FILE, RESULT_SETTINGS
from exitscrape.spiders.meta import FETCHED_AT, WARC_RECORD_ID

logger = logging.getLogger(__name__)

HANDLER = "exitscrape.evidence.replay.ReplayHandler"
#: Flag of a response served from the captures.
REPLAYED = "replayed"


class NotCaptured(Exception):
    """A request the captures hold no response to."""


class ReplayHandler(BaseDownloadHandler):
    """Answers every request from the captures of the version ``EXITSCRAPE_REPLAY`` names."""

    lazy = True  # one instance per scheme the crawl uses, each reading the captures' index

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        folder = crawler.settings.get("EXITSCRAPE_REPLAY")
        if not folder:
            raise NotConfigured("EXITSCRAPE_REPLAY names no version to replay")
        path = Path(folder) / CAPTURES_FILE
        self.version = Path(folder).name
        self._responses = read_index(path).latest()
        self._file = open_captures(path)

    async def download_request(self, request: Request) -> Response:
        captured = self._responses.get((request.method, request.url))
        if captured is None or captured.status is None:
            raise NotCaptured(f"not captured in version {self.version}")
        stored = read_response(self._file, captured)
        request.meta[WARC_RECORD_ID] = captured.record_id
        request.meta[FETCHED_AT] = captured.date
        values: dict[str, list[str]] = defaultdict(list)
        for name, value in stored.headers:
            values[name].append(value)
        headers = Headers(values, encoding="latin-1")
        response_class = responsetypes.from_args(headers=headers, url=request.url, body=stored.body)
        return response_class(
            url=request.url,
            status=stored.status,
            headers=headers,
            body=stored.body,
            flags=[REPLAYED],
            ip_address=_ip(stored.ip_address),
            protocol="HTTP/1.1",
        )

    async def close(self) -> None:
        self._file.close()


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value) if value else None
    except ValueError:
        return None


def _plain(value: Any) -> bool:
    """A setting value a rebuild takes from the captures: a scalar, or a list of scalars."""
    scalar = (bool, int, float, str)
    return (
        value is None
        or isinstance(value, scalar)
        or (isinstance(value, list) and all(isinstance(v, scalar) for v in value))
    )


def replay_settings(version_dir: Path, info: CaptureInfo) -> dict[str, Any]:
    """The settings of a rebuild of the version in *version_dir*, whose captures say *info*."""
    recorded = {}
    for name, value in info.settings.items():
        if name in RESULT_SETTINGS and _plain(value):
            recorded[name] = value
        else:
            logger.warning("Ignoring setting %s recorded in the captures", name[:80])
    return {
        **recorded,
        "EXITSCRAPE_REPLAY": str(version_dir),
        # Every scheme a crawl could reach is answered from the captures, or not at all.
        "DOWNLOAD_HANDLERS": {
            "http": HANDLER,
            "https": HANDLER,
            "ftp": None,
            "s3": None,
            "file": None,
            "data": None,
        },
        "HTTPCACHE_ENABLED": False,
        "EXITSCRAPE_QUICK_CHECK": False,
        # Nothing to be polite to: answers come from a local file.
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    }

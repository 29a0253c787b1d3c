"""Archive mode: crawl the site as a web archive holds it (``exitscrape crawl --archive``).

A Scrapy add-on, always enabled (``ADDONS`` in settings.py), that does nothing unless the
setting ``EXITSCRAPE_ARCHIVE`` names an archive (``wayback`` or a collection's replay URL).
Then, as of ``EXITSCRAPE_ARCHIVE_AT`` (a date; empty: the newest captures):

- the http(s) download handler is :class:`~exitscrape.archive.handler.ArchiveDownloadHandler`,
  which reads every site URL from the archive;
- the HTTP cache and the quick check are off, whatever ``-s`` says: archives ignore conditional
  requests (pywb always answers 200), and the cache and the quick-check plan are the live
  site's;
- unless set per run (``-s``): responses are not retried by status (``RETRY_HTTP_CODES`` empty),
  since a captured 503 is what the site answered then and asking again replays the same
  capture (the handler retries the archive's own busy answers), and the User-Agent is
  ``EXITSCRAPE_ARCHIVE_USER_AGENT``.

Politeness is the live crawl's: one request at a time, a 1 s delay, AutoThrottle (see
docs/archive.md for the Internet Archive's expectations). The components that need to know
read :func:`archive_source`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from exitscrape.archive.replay import Archive, ArchiveSource, format_timestamp, parse_at

HANDLER = "exitscrape.archive.handler.ArchiveDownloadHandler"


class ArchiveMode:
    """The add-on; :attr:`source` is where this crawl reads the site, ``None`` for the live
    site."""

    def __init__(self) -> None:
        self.source: ArchiveSource | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMode:
        return cls()

    def update_settings(self, settings: BaseSettings) -> None:
        spec = settings.get("EXITSCRAPE_ARCHIVE")
        if not spec:
            return
        at = (
            parse_at(settings["EXITSCRAPE_ARCHIVE_AT"])
            if settings["EXITSCRAPE_ARCHIVE_AT"]
            else None
        )
        now = format_timestamp(datetime.now(UTC))
        self.source = ArchiveSource(Archive.parse(spec), at, at or now)
        handlers = {**settings.getdict("DOWNLOAD_HANDLERS"), "http": HANDLER, "https": HANDLER}
        for name, value in {
            "DOWNLOAD_HANDLERS": handlers,
            "HTTPCACHE_ENABLED": False,
            "EXITSCRAPE_QUICK_CHECK": False,
        }.items():
            settings.set(name, value, priority="cmdline")
        for name, value in {
            "RETRY_HTTP_CODES": [],
            "USER_AGENT": settings["EXITSCRAPE_ARCHIVE_USER_AGENT"],
        }.items():
            settings.set(name, value, priority="project")  # -s NAME=VALUE still wins


def archive_source(crawler: Crawler) -> ArchiveSource | None:
    """Where *crawler* reads the site from: an archive, or ``None`` for the live site."""
    mode = crawler.get_addon(ArchiveMode)
    return mode.source if mode is not None else None

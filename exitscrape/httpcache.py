"""HTTP cache for incremental re-crawls: every stored page is revalidated, never trusted blindly.

Scrapy's :class:`~scrapy.extensions.httpcache.RFC2616Policy` serves a page straight from the
cache while it is heuristically fresh (a page with ``Last-Modified`` counts as fresh for a tenth
of its age), replays a cached page when the server answers 5xx, and
:class:`~scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware` replays it when the download
fails. A scheduled crawl must see the site as it is *now*, so here:

* every cached page is asked for again with ``If-None-Match`` / ``If-Modified-Since``: unchanged
  costs a ``304 Not Modified`` (counted as ``httpcache/revalidate``), changed costs a download;
* a server error or a failed download is a failure of this run, never a stale copy;
* cache entries are written to a temporary directory and renamed into place, so a run killed
  while storing a page leaves the old entry or none, never a torn one.

The cache lives in ``EXITSCRAPE_CACHE_DIR``, by default ``<data-dir>/cache``.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import FilesystemCacheStorage, RFC2616Policy
from scrapy.http import Response
from scrapy.settings import BaseSettings, Settings

from exitscrape.dataset.store import resolve_data_dir

_STAGING = ".staging-"

logger = logging.getLogger(__name__)


def cache_dir(settings: BaseSettings) -> Path:
    """``EXITSCRAPE_CACHE_DIR`` if set, else ``cache`` inside the data dir."""
    configured = settings.get("EXITSCRAPE_CACHE_DIR")
    if configured:
        return Path(configured)
    return resolve_data_dir(settings.get("EXITSCRAPE_DATA_DIR")) / "cache"


class RevalidatingPolicy(RFC2616Policy):
    """RFC 2616 caching, except that a stored page is always revalidated with the server and
    only a ``304`` answer makes the stored copy count."""

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        return response.status == 304


class CacheStorage(FilesystemCacheStorage):
    """Scrapy's filesystem storage in :func:`cache_dir`, with entries replaced atomically."""

    def __init__(self, settings: BaseSettings) -> None:
        # An absolute HTTPCACHE_DIR: Scrapy resolves a relative one against the project's
        # .scrapy dir and disables the cache when no scrapy.cfg is found (cron, scrapyd, pip).
        absolute = Settings(settings.copy_to_dict())
        absolute.set("HTTPCACHE_DIR", str(cache_dir(settings).resolve()))
        super().__init__(absolute)
        self._storing_to: Path | None = None

    def _get_request_path(self, spider: Spider, request: Request) -> str:
        if self._storing_to is not None:
            return str(self._storing_to)
        return super()._get_request_path(spider, request)

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        final = Path(self._get_request_path(spider, request))
        staging = final.with_name(f"{_STAGING}{final.name}")
        shutil.rmtree(staging, ignore_errors=True)  # left by a run killed while storing
        self._storing_to = staging
        try:
            super().store_response(spider, request, response)
        except OSError as error:
            logger.warning("Could not cache %s: %s", request.url, error)
            shutil.rmtree(staging, ignore_errors=True)
            return
        finally:
            self._storing_to = None
        # A directory cannot replace a non-empty one in one step: move the old entry aside
        # first. A kill in between leaves no entry, which is a cache miss, never a torn entry.
        old = final.with_name(f"{_STAGING}old-{final.name}")
        try:
            if final.exists():
                shutil.rmtree(old, ignore_errors=True)
                os.rename(final, old)
            os.rename(staging, final)
        except OSError as error:  # a full disk, say: the page is fine, only not cached
            logger.warning("Could not cache %s: %s", request.url, error)
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


class RevalidatingCacheMiddleware(HttpCacheMiddleware):
    """The cache middleware without "error recovery": a failed download fails this run instead
    of silently replaying the copy from the previous run; and an unchanged page is not written
    back to the cache."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        """A ``304`` answers with the stored page as it is: Scrapy would store it again (six
        files, gzip, an atomic swap), which made a rerun of an unchanged site slower than the
        first crawl (BENCHMARKS.md). The validators a next run sends do not change on a 304."""
        cached = request.meta.get("cached_response")
        if (
            response.status == 304
            and cached is not None
            and not request.meta.get("dont_cache", False)
            and "_dont_cache" not in request.meta
            and "cached" not in response.flags
        ):
            del request.meta["cached_response"]
            self.stats.inc_value("httpcache/revalidate")
            self._freshen_cached_response(cached, response)
            return cached
        return super().process_response(request, response)

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        request.meta.pop("cached_response", None)
        return None

"""HTTP cache for incremental re-crawls: every stored page is revalidated, never trusted blindly.

Scrapy's :class:`~scrapy.extensions.httpcache.RFC2616Policy` serves a page straight from the
cache while it is heuristically fresh (a page with ``Last-Modified`` counts as fresh for a tenth
of its age), replays a cached page when the server answers 5xx, and
:class:`~scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware` replays it when the download
fails. A scheduled crawl must see the site as it is *now*, so here:

* every cached page is asked for again with ``If-None-Match`` / ``If-Modified-Since``: unchanged
  costs a ``304 Not Modified`` (counted as ``httpcache/revalidate``), changed costs a download;
* a server error or a failed download is a failure of this run, never a stale copy;
* cache entries are one file each, written to a temporary file and renamed into place, so a run
  killed while storing a page leaves the old entry or none, never a torn one.

The cache lives in ``EXITSCRAPE_CACHE_DIR``, by default ``<data-dir>/cache``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import pickle
import shutil
import time
from pathlib import Path

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.utils.response import response_from_dict

from exitscrape.dataset.files import atomic_write
from exitscrape.dataset.store import resolve_data_dir
from exitscrape.spiders.meta import CONFIRMED_SHA256

_ONE_FILE_LAYOUT = ".one-file-entries"  # marks a cache dir holding only CacheStorage's files
#: Flag of a cached response that stands for a ``304 Not Modified`` (Scrapy flags every response
#: from the cache ``cached``; the captures say which ones the site confirmed just now).
REVALIDATED = "revalidated"

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
        confirmed = request.meta.get(CONFIRMED_SHA256)
        if confirmed and hashlib.sha256(cachedresponse.body).hexdigest() == confirmed:
            return True
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        return response.status == 304


class CacheStorage:
    """One file per page in :func:`cache_dir` (``<spider>/<fp[:2]>/<fp>``): the response,
    pickled and gzipped, written to a temporary file and renamed into place, so a run killed
    while storing leaves the old entry or none, never a torn one; an unreadable entry is a miss.

    Scrapy's filesystem storage writes a directory of seven files per page: on a disk where
    creating a file costs half a millisecond that was two thirds of a cold crawl's time
    (BENCHMARKS.md). ``HTTPCACHE_GZIP`` and ``HTTPCACHE_EXPIRATION_SECS`` apply as in Scrapy.
    """

    def __init__(self, settings: BaseSettings) -> None:
        # Our own dir, absolute: Scrapy resolves HTTPCACHE_DIR against the project's .scrapy
        # dir, which does not exist under cron, scrapyd or a pip install.
        self.cachedir = cache_dir(settings).resolve()
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")
        self.use_gzip = settings.getbool("HTTPCACHE_GZIP")

    def open_spider(self, spider: Spider) -> None:
        assert spider.crawler.request_fingerprinter is not None
        self._fingerprinter = spider.crawler.request_fingerprinter
        logger.debug("Using the HTTP cache in %s", self.cachedir)
        self._drop_directory_entries(self.cachedir / spider.name)

    def _drop_directory_entries(self, root: Path) -> None:
        """Remove, once, the entries of the storage exitscrape used before (Scrapy's: a
        directory per page, at the path of this storage's file): they would never be read and
        would make every store fail."""
        marker = self.cachedir / _ONE_FILE_LAYOUT
        if marker.exists():
            return
        for entry in root.glob("*/*") if root.is_dir() else ():
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
        with contextlib.suppress(OSError):  # no marker: the next run looks again
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()

    def close_spider(self, spider: Spider) -> None:
        pass

    def path(self, spider: Spider, request: Request) -> Path:
        key = self._fingerprinter.fingerprint(request).hex()
        return self.cachedir / spider.name / key[:2] / key

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        path = self.path(spider, request)
        try:
            if 0 < self.expiration_secs < time.time() - path.stat().st_mtime:
                return None
            data = path.read_bytes()
            entry = pickle.loads(gzip.decompress(data) if self.use_gzip else data)
            response = response_from_dict(entry["response"])
        except FileNotFoundError:
            return None
        except Exception as error:  # a torn or foreign file: ask the site instead
            logger.warning("Ignoring unreadable cache entry %s: %s", path, error)
            return None
        request.meta["cache_timestamp"] = entry["timestamp"]
        return response

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        path = self.path(spider, request)
        fields = {k: v for k, v in response.to_dict().items() if k != "flags"}
        fields["headers"] = {k: list(v) for k, v in response.headers.items()}
        entry = {"url": request.url, "method": request.method, "timestamp": time.time()}
        data = pickle.dumps({**entry, "response": fields}, protocol=pickle.HIGHEST_PROTOCOL)
        if self.use_gzip:
            data = gzip.compress(data, compresslevel=6)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data)
        except OSError as error:  # a full disk, say: the page is fine, only not cached
            logger.warning("Could not cache %s: %s", request.url, error)


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
        cached: Response | None = request.meta.get("cached_response")
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
            cached.flags.append(REVALIDATED)
            return cached
        return super().process_response(request, response)

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        request.meta.pop("cached_response", None)
        return None

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
  killed while storing a page leaves the old entry or none, never a torn one;
* an entry is data (JSON metadata and the raw body), never code: a file planted in the cache
  (the shared CI cache, say) can at worst be a wrong page, which revalidation then replaces.

The cache lives in ``EXITSCRAPE_CACHE_DIR``, by default ``<data-dir>/cache``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import shutil
import stat
import time
import zlib
from pathlib import Path

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes
from scrapy.settings import BaseSettings

from exitscrape.dataset.files import FILE_MODE, atomic_write, make_dirs, read_regular
from exitscrape.dataset.store import resolve_data_dir
from exitscrape.spiders.meta import CONFIRMED_SHA256

_ONE_FILE_LAYOUT = ".one-file-entries"  # marks a cache dir holding only CacheStorage's files
#: Flag of a cached response that stands for a ``304 Not Modified`` (Scrapy flags every response
#: from the cache ``cached``; the captures say which ones the site confirmed just now).
REVALIDATED = "revalidated"
#: First line of an entry (after gzip); entries of earlier formats (pickles) are misses.
_MAGIC = b"exitscrape-cache 2\n"
_GZIP_MAGIC = b"\x1f\x8b"
#: Room for an entry's metadata (URL, headers) beside a body of up to DOWNLOAD_MAXSIZE.
_META_ROOM = 1 << 20

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


class EntryError(ValueError):
    """A cache entry that cannot be used (torn, foreign, of an earlier format, too large)."""


def encode_entry(url: str, method: str, response: Response, timestamp: float) -> bytes:
    """A cache entry: :data:`_MAGIC`, one line of JSON metadata, then the body as it came."""
    meta = {
        "url": url,
        "method": method,
        "timestamp": timestamp,
        "response_url": response.url,
        "status": response.status,
        "protocol": response.protocol,
        "headers": {
            key.decode("latin-1"): [value.decode("latin-1") for value in values]
            for key, values in response.headers.items()
        },
    }
    return _MAGIC + json.dumps(meta).encode() + b"\n" + response.body


def decode_entry(data: bytes, limit: int) -> tuple[Response, float]:
    """The response an entry holds and when it was stored; :class:`EntryError` for anything
    else. Nothing in *data* is executed or names code: the response class follows from the
    headers and URL, as for a download."""
    if data.startswith(_GZIP_MAGIC):
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = inflate.decompress(data, limit + 1)
        except zlib.error as error:
            raise EntryError(f"not gzip: {error}") from None
        if len(data) > limit or not inflate.eof:
            raise EntryError("larger than a page may be, or torn")
    if not data.startswith(_MAGIC):
        raise EntryError("not an entry of this exitscrape (an earlier format, or foreign)")
    line, _, body = data[len(_MAGIC) :].partition(b"\n")
    try:
        meta = json.loads(line)
        url, status, timestamp = meta["response_url"], meta["status"], meta["timestamp"]
        headers = Headers(
            {str(k): [str(v) for v in vs] for k, vs in meta["headers"].items()}, encoding="latin-1"
        )
        protocol = meta.get("protocol")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise EntryError(f"malformed metadata: {error!r}") from None
    if not (
        isinstance(url, str)
        and type(status) is int
        and 100 <= status <= 999
        and isinstance(timestamp, int | float)
        and isinstance(protocol, str | None)
    ):
        raise EntryError("malformed metadata")
    try:
        cls = responsetypes.from_args(headers=headers, url=url, body=body)
        response = cls(url=url, status=status, headers=headers, body=body, protocol=protocol)
    except (ValueError, TypeError) as error:  # a URL without a scheme, say
        raise EntryError(f"malformed metadata: {error}") from None
    return response, timestamp


def _real_subdirs(path: Path) -> list[Path]:
    """The directories in *path*, itself a directory: symlinks are neither listed nor
    followed."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return []
        with os.scandir(path) as entries:
            return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


class CacheStorage:
    """One file per page in :func:`cache_dir` (``<spider>/<fp[:2]>/<fp>``): the response as
    data (:func:`encode_entry`), gzipped, written to a temporary file and renamed into place, so
    a run killed while storing leaves the old entry or none, never a torn one; an unreadable,
    foreign or older entry is a miss (the page is downloaded again).

    Scrapy's filesystem storage writes a directory of seven files per page: on a disk where
    creating a file costs half a millisecond that was two thirds of a cold crawl's time
    (BENCHMARKS.md); it, and the storage exitscrape used before, also pickle what they store, so
    a planted file would run code. ``HTTPCACHE_GZIP`` and ``HTTPCACHE_EXPIRATION_SECS`` apply
    as in Scrapy.
    """

    def __init__(self, settings: BaseSettings) -> None:
        # Our own dir, absolute: Scrapy resolves HTTPCACHE_DIR against the project's .scrapy
        # dir, which does not exist under cron, scrapyd or a pip install.
        self.cachedir = cache_dir(settings).resolve()
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")
        self.use_gzip = settings.getbool("HTTPCACHE_GZIP")
        # No entry is read beyond what a download may be (a planted gzip bomb is a miss).
        self.limit = (settings.getint("DOWNLOAD_MAXSIZE") or 1 << 30) + _META_ROOM

    def open_spider(self, spider: Spider) -> None:
        assert spider.crawler.request_fingerprinter is not None
        self._fingerprinter = spider.crawler.request_fingerprinter
        logger.debug("Using the HTTP cache in %s", self.cachedir)
        self._drop_directory_entries(self.cachedir / spider.name)

    def _drop_directory_entries(self, root: Path) -> None:
        """Remove, once, the entries of Scrapy's storage (a directory per page, at the path of
        this storage's file): they would never be read and would make every store fail.
        Symlinks are never followed (one planted in the cache must not delete anything)."""
        marker = self.cachedir / _ONE_FILE_LAYOUT
        if os.path.lexists(marker):
            return
        for shard in _real_subdirs(root):
            for entry in _real_subdirs(shard):
                shutil.rmtree(entry, ignore_errors=True)
        with contextlib.suppress(OSError):  # no marker: the next run looks again
            make_dirs(marker.parent)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            os.close(os.open(marker, flags, FILE_MODE))

    def close_spider(self, spider: Spider) -> None:
        pass

    def path(self, spider: Spider, request: Request) -> Path:
        key = self._fingerprinter.fingerprint(request).hex()
        return self.cachedir / spider.name / key[:2] / key

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        path = self.path(spider, request)
        try:
            if 0 < self.expiration_secs < time.time() - os.lstat(path).st_mtime:
                return None
            response, timestamp = decode_entry(read_regular(path, self.limit), self.limit)
            if response.url != request.url:  # each entry is its request's own response
                raise EntryError(f"an entry for {response.url[:200]}")
        except FileNotFoundError:
            return None
        except (OSError, EntryError) as error:  # torn, foreign, older: ask the site instead
            logger.debug("Ignoring the cache entry %s: %s", path, error)
            return None
        request.meta["cache_timestamp"] = timestamp
        return response

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        path = self.path(spider, request)
        if path.parent.is_symlink() or path.parent.parent.is_symlink():
            # Planted in the cache (a restored CI cache, say): it would put files elsewhere.
            logger.warning("Not caching %s: a symbolic link on the way to %s", request.url, path)
            return
        data = encode_entry(request.url, request.method, response, time.time())
        if self.use_gzip:
            data = gzip.compress(data, compresslevel=6)
        try:
            make_dirs(path.parent)
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

"""The crawl's captures: every HTTP exchange recorded as it happens, published with the version.

:class:`CaptureMiddleware`, a downloader middleware, hands each response the crawl receives,
with the request it answered, to the captures' writer process (:mod:`exitscrape.evidence.writer`),
which writes them to a file staged in the data dir
(:meth:`~exitscrape.dataset.store.DatasetStore.stage`), record by record. It sits between the
HTTP cache (900), which turns a ``304`` into the cached page it stands for, and the redirect
middleware (600), which consumes redirects, so it sees every answer: redirects, errors,
robots.txt, HEAD checks, and the pages the cache answered, with the body the crawl read. The
quick check's own requests are not recorded: they are compared, not read, and a run whose check
finds nothing changed publishes nothing.

The publish extension asks :func:`run_evidence` for the files to publish with the version (the
captures, moved in by the store) and discards them when the run publishes nothing.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.settings import BaseSettings

from exitscrape import __version__
from exitscrape.dataset.redact import REDACTED, is_secret_name, redact_settings
from exitscrape.dataset.store import DatasetStore, resolve_data_dir
from exitscrape.evidence.reader import CapturesError, open_captures
from exitscrape.evidence.writer import (
    CAPTURES_FILE,
    RESULT_SETTINGS,
    CaptureProcess,
    CopiedExchange,
    Exchange,
    Span,
    warcinfo,
)
from exitscrape.incremental.cache import REVALIDATED
from exitscrape.spiders.base import scope_of
from exitscrape.spiders.meta import FETCHED_AT, RECHECK_URL, WARC_RECORD_ID

logger = logging.getLogger(__name__)

#: Why a response recorded from the HTTP cache is current (``Exitscrape-Served-From``).
REVALIDATED_NOTE = "cache: the site answered 304 Not Modified"
CONFIRMED_NOTE = "cache: the quick check found the page unchanged earlier in this run"


def result_settings(settings: BaseSettings) -> dict[str, Any]:
    """The values of :data:`~exitscrape.evidence.writer.RESULT_SETTINGS` in *settings*."""
    values = {}
    for name in RESULT_SETTINGS:
        value = settings.get(name)
        values[name] = value.copy_to_dict() if isinstance(value, BaseSettings) else value
    return redact_settings(values)


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]


def _without_secrets(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Request headers as captures (and releases) show them: a credential the crawl sent
    (``Authorization``, ``Proxy-Authorization``, an API key header) keeps its name, not its
    value (:mod:`exitscrape.dataset.redact`)."""
    return [(name, REDACTED if is_secret_name(name) else value) for name, value in headers]


def exchange(request: Request, response: Response) -> Exchange:
    """What *request* and *response* are as a record."""
    served_from = None
    if "cached" in response.flags:
        served_from = REVALIDATED_NOTE if REVALIDATED in response.flags else CONFIRMED_NOTE
    cached_at = request.meta.get("cache_timestamp") if served_from else None
    request_headers = _without_secrets(_headers(request.headers))
    if not any(name.lower() == "host" for name, _ in request_headers):
        request_headers.insert(0, ("Host", request.url.split("/", 3)[2]))
    return Exchange(
        url=request.url,
        method=request.method,
        request_headers=request_headers,
        status=response.status,
        response_headers=_headers(response.headers),
        body=response.body,
        date=datetime.now(UTC),
        ip_address=str(response.ip_address) if response.ip_address and not served_from else None,
        served_from=served_from,
        cached_at=datetime.fromtimestamp(cached_at, UTC) if cached_at else None,
    )


class RunEvidence(Protocol):
    """What a run publishes with its version besides the tables (see :func:`run_evidence`)."""

    def files(self) -> dict[str, Path]:
        """Name in the version -> file staged in the data dir, complete and closed;
        :class:`OSError` when they could not be written."""

    def manifest(self) -> dict[str, Any]:
        """Fields the version's manifest adds."""

    def spans(self) -> Mapping[str, Span]:
        """Response record ID -> where its exchange is in the captures :meth:`files` gave
        (empty before, or when the captures are not this run's)."""

    def discard(self) -> None:
        """Remove what was staged and not published (safe to call more than once)."""


class CaptureMiddleware:
    """Records the crawl's HTTP exchanges (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        if crawler.settings.get("EXITSCRAPE_REPLAY"):
            raise NotConfigured("a rebuild publishes the captures it replays")
        self.crawler = crawler
        self.store = DatasetStore(resolve_data_dir(crawler.settings.get("EXITSCRAPE_DATA_DIR")))
        self._writer: CaptureProcess | None = None
        self._path: Path | None = None
        self._error: str | None = None
        self._finished = False
        self._spans: dict[str, Span] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        return cls(crawler)

    def _open(self) -> CaptureProcess:
        """The captures file, created at the first response (after the publish extension took
        the data dir's lock: a run locked out never creates one)."""
        self._path, file = self.store.stage(suffix="-" + CAPTURES_FILE)
        logger.debug("Writing the captures to %s", self._path)
        settings = self.crawler.settings
        info = warcinfo(
            f"exitscrape/{__version__}", scope_of(self.crawler).start_url, result_settings(settings)
        )
        try:
            return CaptureProcess(file, info)
        except BaseException:
            file.close()
            raise

    def process_response(self, request: Request, response: Response) -> Response:
        if RECHECK_URL in request.meta or self._finished or self._error:
            return response
        try:
            if self._writer is None:
                self._writer = self._open()
            record = exchange(request, response)
            self._writer.write(record)
        except Exception as error:  # a full disk, say: no version can be published without them
            self._fail(error)
            return response
        request.meta[WARC_RECORD_ID] = record.record_id
        request.meta[FETCHED_AT] = record.date
        return response

    def copy(self, copied: CopiedExchange) -> None:
        """Record an exchange of the latest version's captures again, as it is there (a page
        the quick check found unchanged, which the run did not fetch again)."""
        if self._finished or self._error:
            return
        try:
            if self._writer is None:
                self._writer = self._open()
            self._writer.write(copied)
        except Exception as error:
            self._fail(error)

    def _fail(self, error: BaseException) -> None:
        self._error = f"{type(error).__name__}: {error}"
        logger.error("Cannot write the captures: %s; this run will publish nothing", error)

    def files(self) -> dict[str, Path]:
        self._finished = True
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.close()  # what is queued is written first
                self._spans = writer.spans
            except Exception as error:
                if not self._error:
                    self._fail(error)
        if self._error:
            raise OSError(f"the captures could not be written: {self._error}")
        return {CAPTURES_FILE: self._path} if self._path else {}

    def manifest(self) -> dict[str, Any]:
        return {}

    def spans(self) -> Mapping[str, Span]:
        return self._spans

    def discard(self) -> None:
        self._finished = True
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.abort()
        if self._path is not None:
            self._path.unlink(missing_ok=True)


class ReplayEvidence:
    """A rebuild's evidence: the captures of the version it replays, published again with the
    rebuilt version (its pages name their records), and where it was rebuilt from."""

    def __init__(self, store: DatasetStore, version_dir: Path) -> None:
        self.store = store
        self.version_dir = version_dir
        self._path: Path | None = None

    def files(self) -> dict[str, Path]:
        self._path, staged = self.store.stage(suffix="-" + CAPTURES_FILE)
        try:
            with staged, open_captures(self.version_dir / CAPTURES_FILE) as source:
                shutil.copyfileobj(source, staged)
        except CapturesError as error:
            raise OSError(f"cannot copy the captures replayed: {error}") from None
        return {CAPTURES_FILE: self._path}

    def manifest(self) -> dict[str, Any]:
        return {"rebuilt_from": self.version_dir.name, "rebuilt_by": __version__}

    def spans(self) -> Mapping[str, Span]:
        return {}

    def discard(self) -> None:
        if self._path is not None:
            self._path.unlink(missing_ok=True)


class NoEvidence:
    """A run without the capture middleware (disabled in its settings): nothing to publish."""

    def files(self) -> dict[str, Path]:
        logger.warning(
            "The capture middleware is off: this version has no captures (it cannot be checked "
            "against its sources or rebuilt)"
        )
        return {}

    def manifest(self) -> dict[str, Any]:
        return {}

    def spans(self) -> Mapping[str, Span]:
        return {}

    def discard(self) -> None:
        pass


def run_evidence(crawler: Crawler) -> RunEvidence:
    """The evidence this run publishes with its version."""
    replay = crawler.settings.get("EXITSCRAPE_REPLAY")
    if replay:
        store = DatasetStore(resolve_data_dir(crawler.settings.get("EXITSCRAPE_DATA_DIR")))
        return ReplayEvidence(store, Path(replay))
    return crawler.get_downloader_middleware(CaptureMiddleware) or NoEvidence()

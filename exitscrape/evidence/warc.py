"""Captures: a crawl's HTTP exchanges as a WARC file (ISO 28500), written and read with warcio.

A version's ``captures.warc.gz`` is WARC/1.1, one gzip member per record:

* first a ``warcinfo`` record: the software (exitscrape and its version), the start URL, and the
  settings that decide what a crawl fetches and how it reads the answers (``exitscrape-settings``,
  JSON), so that the captures alone replay into the same dataset (``exitscrape rebuild``);
* for every response the crawl received (redirects, errors, robots.txt and HEAD checks
  included), a ``response`` record and the ``request`` record it answered (whose
  ``WARC-Concurrent-To`` names the response): ``WARC-Target-URI`` is the URL requested,
  ``WARC-Date`` when the response came (to the microsecond: the pages table's ``fetched_at``),
  ``WARC-IP-Address`` the server's address where known; block and payload digests are SHA-256.

Bodies are recorded as received: compressed when the server compressed them
(``Content-Encoding``), de-chunked (a ``Transfer-Encoding`` header is left out, as are header
lines whose name is not an HTTP token). A response the HTTP cache answered (the site said
``304 Not Modified``, or the quick check had confirmed the page earlier in the run) is recorded
with the cached body and headers and says so in ``Exitscrape-Served-From`` (and when that body was
downloaded, in ``Exitscrape-Cached-At``): a version's captures hold every body it was built from.

Nothing here imports Scrapy: :mod:`exitscrape.evidence.capture` turns Scrapy's requests and
responses into :class:`Exchange` records.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, Any, BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from exitscrape.dataset.files import open_regular
from exitscrape.dataset.store import DatasetError

try:  # the zstd decoder Scrapy uses (Python 3.14's, else its backport, a Scrapy dependency)
    from compression import zstd  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd  # type: ignore[import-not-found,no-redef,unused-ignore]

#: The captures' file name in a version.
CAPTURES_FILE = "captures.warc.gz"
#: The settings that decide what a crawl fetches and how it reads the answers, recorded in the
#: captures' warcinfo and applied again by a rebuild. (Delays, concurrency, AutoThrottle and the
#: HTTP cache change how fast a crawl gets its answers, not what it makes of them.)
RESULT_SETTINGS = (
    "ROBOTSTXT_OBEY",
    "USER_AGENT",
    "DOWNLOAD_MAXSIZE",
    "DOWNLOAD_FAIL_ON_DATALOSS",
    "REDIRECT_ENABLED",
    "REDIRECT_MAX_TIMES",
    "METAREFRESH_ENABLED",
    "METAREFRESH_MAXDELAY",
    "RETRY_ENABLED",
    "RETRY_TIMES",
    "RETRY_HTTP_CODES",
    "HTTPERROR_ALLOWED_CODES",
    "HTTPERROR_ALLOW_ALL",
    "COOKIES_ENABLED",
    "URLLENGTH_LIMIT",
    "DEPTH_LIMIT",
    "CLOSESPIDER_PAGECOUNT",
    "CLOSESPIDER_ITEMCOUNT",
    "CLOSESPIDER_ERRORCOUNT",
)
#: WARC header of a response that the HTTP cache answered: why its body is current.
SERVED_FROM = "Exitscrape-Served-From"
#: WARC header of a response that the HTTP cache answered: when its body was downloaded.
CACHED_AT = "Exitscrape-Cached-At"
#: warcinfo field holding the settings that shape a crawl's result, as JSON.
SETTINGS_FIELD = "exitscrape-settings"
START_URL_FIELD = "start-url"
_DROPPED_HEADERS = frozenset({"transfer-encoding"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_LINE_BREAK = re.compile(r"[\r\n]")


class CapturesError(DatasetError):
    """Captures that cannot be read (missing, not a regular file, not a WARC)."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request the crawl made and the response it got, as recorded."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    date: datetime  # when the response came (UTC)
    ip_address: str | None = None
    served_from: str | None = None  # why the HTTP cache answered, if it did
    cached_at: datetime | None = None  # when the cached body was downloaded


@dataclass(frozen=True, slots=True)
class CaptureRef:
    """Where a response was recorded: its WARC record ID and date."""

    record_id: str
    date: datetime


class _SHA256WARCWriter(WARCWriter):  # type: ignore[misc]
    """warcio's writer with SHA-256 digests (the pages table's ``body_sha256`` is SHA-256)."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


def warc_date(moment: datetime) -> str:
    """*moment* as a WARC/1.1 date, to the microsecond (``2026-11-24T19:45:12.123456Z``)."""
    return str(datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True))


def parse_warc_date(value: str) -> datetime:
    return iso_date_to_datetime(value).replace(tzinfo=UTC)  # type: ignore[no-any-return]


def recordable_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """HTTP header lines as a record can hold them: without ``Transfer-Encoding`` (the body is
    recorded de-chunked), without lines whose name is not an HTTP token, line breaks in values
    replaced by spaces (a record's framing never depends on what a server sent)."""
    return [
        (name, _LINE_BREAK.sub(" ", value))
        for name, value in headers
        if _TOKEN.match(name) and name.lower() not in _DROPPED_HEADERS
    ]


def warcinfo(software: str, start_url: str, settings: Mapping[str, Any]) -> dict[str, str]:
    """The fields of a captures file's ``warcinfo`` record."""
    return {
        "software": software,
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/"
        "warc-1.1/",
        "description": "The HTTP exchanges of one exitscrape crawl: every response it received "
        "(redirects, errors, robots.txt and HEAD checks included) and the request it answered",
        START_URL_FIELD: start_url,
        "robots": "obey" if settings.get("ROBOTSTXT_OBEY") else "ignore",
        "http-header-user-agent": str(settings.get("USER_AGENT") or ""),
        SETTINGS_FIELD: json.dumps(settings, sort_keys=True, default=str),
    }


class CaptureWriter:
    """Writes a captures file record by record (nothing is held back in memory)."""

    def __init__(self, file: BinaryIO, info: Mapping[str, str]) -> None:
        self._file = file
        self._warc = _SHA256WARCWriter(file, gzip=True, warc_version="1.1")
        self._warc.write_record(self._warc.create_warcinfo_record(CAPTURES_FILE, dict(info)))

    def write(self, exchange: Exchange) -> CaptureRef:
        """Record *exchange* (response, then request); where its response was recorded."""
        date = warc_date(exchange.date)
        extra = {
            "WARC-IP-Address": exchange.ip_address,
            SERVED_FROM: exchange.served_from,
            CACHED_AT: warc_date(exchange.cached_at) if exchange.cached_at else None,
        }
        reason = _reason(exchange.status)
        response = self._warc.create_warc_record(
            exchange.url,
            "response",
            payload=BytesIO(exchange.body),
            length=len(exchange.body),
            http_headers=StatusAndHeaders(
                f"{exchange.status} {reason}".strip(),
                recordable_headers(exchange.response_headers),
                protocol="HTTP/1.1",
            ),
            warc_headers_dict={"WARC-Date": date, **{k: v for k, v in extra.items() if v}},
        )
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = self._warc.create_warc_record(
            exchange.url,
            "request",
            http_headers=StatusAndHeaders(
                f"{exchange.method} {target} HTTP/1.1",
                recordable_headers(exchange.request_headers),
                is_http_request=True,
            ),
            warc_headers_dict={"WARC-Date": date},
        )
        self._warc.write_request_response_pair(request, response)
        return CaptureRef(str(response.rec_headers.get_header("WARC-Record-ID")), exchange.date)

    def close(self) -> None:
        """Flush the file to disk and close it."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def open_captures(path: Path) -> BinaryIO:
    """The captures at *path* opened for reading; :class:`CapturesError` when *path* is not a
    regular file (see :func:`~exitscrape.dataset.files.open_regular`)."""
    try:
        return open_regular(path)
    except FileNotFoundError:
        raise CapturesError(f"{path} does not exist") from None
    except OSError as error:
        raise CapturesError(f"cannot open {path}: {error.strerror or error}") from None


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    """What a captures file's ``warcinfo`` record says."""

    software: str
    start_url: str | None
    settings: dict[str, Any]


def read_info(path: Path) -> CaptureInfo | None:
    """What the warcinfo record that opens the captures at *path* says (``None``: none does)."""
    with open_captures(path) as file:
        try:
            record = next(iter(ArchiveIterator(file)), None)
            if record is None or record.rec_type != "warcinfo":
                return None
            return _read_info(record.content_stream().read())
        except Exception as error:  # not a WARC file, or a torn one
            raise CapturesError(f"cannot read {path}: {type(error).__name__}: {error}") from None


@dataclass(frozen=True, slots=True)
class CapturedResponse:
    """One ``response`` record of a captures file."""

    record_id: str
    url: str
    method: str  # of the request record that names it (GET when none does)
    status: int | None
    date: datetime
    offset: int  # of its gzip member in the file
    payload_sha256: str | None = None  # of the body without its Content-Encoding (verify only)


@dataclass
class CaptureIndex:
    """The records of a captures file, in file order."""

    info: CaptureInfo | None
    responses: list[CapturedResponse]
    problems: list[str] = field(default_factory=list)  # digests that failed, unreadable parts
    records: int = 0

    def by_id(self) -> dict[str, CapturedResponse]:
        return {response.record_id: response for response in self.responses}

    def latest(self) -> dict[tuple[str, str], CapturedResponse]:
        """The last response to each (method, URL): what the crawl went on with."""
        return {(response.method, response.url): response for response in self.responses}


def read_index(path: Path, *, check: bool = False) -> CaptureIndex:
    """The records of the captures at *path*.

    With *check*, every record's digests are verified (as ``warcio check`` does) and every
    response's body is hashed without its ``Content-Encoding`` (``payload_sha256``, comparable
    with ``pages.body_sha256``; not past the recorded ``DOWNLOAD_MAXSIZE``, beyond which the crawl
    read nothing). Problems are listed, not raised; reading stops at the first unreadable part.
    """
    info: CaptureInfo | None = None
    found: list[CapturedResponse] = []
    methods: dict[str, str] = {}
    problems: list[str] = []
    records = 0
    with open_captures(path) as file:
        iterator = ArchiveIterator(file, check_digests=check)
        try:
            for record in iterator:
                records += 1
                record_id = record.rec_headers.get_header("WARC-Record-ID") or f"#{records}"
                payload: str | None = None
                if record.rec_type == "warcinfo" and info is None:
                    info = _read_info(record.content_stream().read())
                elif record.rec_type == "request" and record.http_headers:
                    if concurrent := record.rec_headers.get_header("WARC-Concurrent-To"):
                        methods[concurrent] = record.http_headers.protocol
                elif record.rec_type == "response" and check:
                    try:
                        payload = _payload_sha256(record, _max_size(info))
                    except Exception as error:  # a body its Content-Encoding does not decode
                        problems.append(f"record {record_id}: cannot decode the body: {error}")
                if check:
                    _drain(record.raw_stream)
                    problems += [f"record {record_id}: {p}" for p in record.digest_checker.problems]
                offset = iterator.get_record_offset()  # known once the record is read
                if record.rec_type == "response":
                    try:
                        found.append(_response(record, record_id, offset, payload))
                    except ValueError as error:
                        problems.append(f"record {record_id}: {error}")
        except Exception as error:  # a torn or altered file: say where reading stopped
            problems.append(f"unreadable after record {records}: {type(error).__name__}: {error}")
    responses = [
        replace(response, method=methods.get(response.record_id, "GET")) for response in found
    ]
    return CaptureIndex(info, responses, problems, records)


#: Scrapy's default DOWNLOAD_MAXSIZE: the most a crawl reads of a body unless told otherwise.
_DEFAULT_MAX_SIZE = 1024 * 1024 * 1024


def _max_size(info: CaptureInfo | None) -> int:
    value = info.settings.get("DOWNLOAD_MAXSIZE") if info else None
    return value if isinstance(value, int) and value > 0 else _DEFAULT_MAX_SIZE


def _response(
    record: Any, record_id: str, offset: int, payload_sha256: str | None
) -> CapturedResponse:
    date = record.rec_headers.get_header("WARC-Date") or ""
    try:
        when = parse_warc_date(date)
    except ValueError:
        raise ValueError(f"not a WARC-Date: {date!r}") from None
    status = record.http_headers.get_statuscode() if record.http_headers else ""
    return CapturedResponse(
        record_id,
        record.rec_headers.get_header("WARC-Target-URI") or "",
        "GET",
        int(status) if status.isdigit() else None,
        when,
        offset,
        payload_sha256,
    )


def _payload_sha256(record: Any, limit: int) -> str | None:
    """SHA-256 of the body as the crawl read it (without its Content-Encoding); ``None`` past
    *limit* bytes."""
    encoding = (record.http_headers.get_header("Content-Encoding") or "").strip().lower()
    stream: IO[bytes] = (
        zstd.ZstdFile(record.raw_stream) if encoding == "zstd" else record.content_stream()
    )
    digest = hashlib.sha256()
    size = 0
    for chunk in iter(lambda: stream.read(1 << 16), b""):
        size += len(chunk)
        if size > limit:
            return None
        digest.update(chunk)
    return digest.hexdigest()


def _drain(stream: IO[bytes]) -> None:
    while stream.read(1 << 16):
        pass


def _read_info(payload: bytes) -> CaptureInfo:
    fields = {}
    for line in payload.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    try:
        settings = json.loads(fields.get(SETTINGS_FIELD, "{}"))
    except ValueError:
        settings = {}
    return CaptureInfo(
        software=fields.get("software", ""),
        start_url=fields.get(START_URL_FIELD),
        settings=settings if isinstance(settings, dict) else {},
    )


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A recorded response, as a replay serves it."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes  # as received (with its Content-Encoding)
    ip_address: str | None


def read_response(file: BinaryIO, response: CapturedResponse) -> StoredResponse:
    """The response recorded at *response*'s offset in the captures open as *file*."""
    file.seek(response.offset)
    record = next(iter(ArchiveIterator(file)), None)
    if record is None or record.rec_headers.get_header("WARC-Record-ID") != response.record_id:
        raise CapturesError(f"record {response.record_id} is not at byte {response.offset}")
    return StoredResponse(
        status=response.status or 0,
        headers=list(record.http_headers.headers) if record.http_headers else [],
        body=record.raw_stream.read(),
        ip_address=record.rec_headers.get_header("WARC-IP-Address"),
    )

"""Reading captures (see :mod:`exitscrape.evidence.writer` for what they hold), with warcio:
their warcinfo, an index of their responses (with every digest checked, for ``verify``), and one
recorded response (for a replay). Nothing here imports Scrapy."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_datetime

from exitscrape.dataset.files import open_regular
from exitscrape.dataset.store import DatasetError
from exitscrape.evidence.writer import SETTINGS_FIELD, START_URL_FIELD

try:  # the zstd decoder Scrapy uses (Python 3.14's, else its backport, a Scrapy dependency)
    from compression import zstd  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd  # type: ignore[import-not-found,no-redef,unused-ignore]


class CapturesError(DatasetError):
    """Captures that cannot be read (missing, not a regular file, not a WARC)."""


def parse_warc_date(value: str) -> datetime:
    return iso_date_to_datetime(value).replace(tzinfo=UTC)  # type: ignore[no-any-return]


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

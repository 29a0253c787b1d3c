"""Writing captures: a crawl's HTTP exchanges as a WARC file (ISO 28500), written with warcio by
a process of their own.

A version's ``captures.warc.gz`` is WARC/1.1, one gzip member per record:

* first a ``warcinfo`` record: the software (exitscrape and its version), the start URL, and the
  settings that decide what a crawl fetches and how it reads the answers (``exitscrape-settings``,
  JSON), so that the captures alone replay into the same dataset (``exitscrape rebuild``);
* for every response the crawl received (redirects, errors, robots.txt and HEAD checks
  included), a ``response`` record and the ``request`` record it answered (whose
  ``WARC-Concurrent-To`` names the response): ``WARC-Target-URI`` is the URL requested,
  ``WARC-Date`` when the response came (to the microsecond: the pages table's ``fetched_at``),
  ``WARC-IP-Address`` the server's address where known; block and payload digests are SHA-256,
  written ``sha256:<hex>``.

Bodies are recorded as received: compressed when the server compressed them
(``Content-Encoding``), de-chunked (a ``Transfer-Encoding`` header is left out, as are header
lines whose name is not an HTTP token); a request header carrying a credential
(``Authorization``, ``Proxy-Authorization``, an API key) is recorded with its name and the value
``<redacted>``: captures are published. A response the HTTP cache answered (the site said
``304 Not Modified``, or the quick check had confirmed the page earlier in the run) is recorded
with the cached body and headers and says so in ``Exitscrape-Served-From`` (and when that body was
downloaded, in ``Exitscrape-Cached-At``): a version's captures hold every body it was built from.
A page that a rerun did not fetch again, because the quick check found it unchanged
(:mod:`exitscrape.incremental.replay`), keeps its records from the latest version's captures,
copied byte for byte (:class:`CopiedExchange`): same record ID, same date.

The crawl hands each exchange to a writer process (:class:`CaptureProcess`, running this module):
compressing and hashing run beside the crawl, on another core, instead of in its event loop (in
a thread they would hold the interpreter's lock against the crawl), and the crawl's share is
pickling the exchange into a pipe (BENCHMARKS.md, "Captures"). The pipe is the buffer: when the
writer falls behind, the crawl waits. This module imports only the standard library and warcio,
so the writer process is small; :mod:`exitscrape.evidence.capture` turns Scrapy's requests and
responses into :class:`Exchange` records.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import GzippingWrapper, WARCWriter

try:
    from isal import isal_zlib as _deflate
except ImportError:  # pragma: no cover - a platform without its wheel: zlib, slower
    import zlib as _deflate  # type: ignore[no-redef]

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
    #: The response record's ``WARC-Record-ID``, known before the record is written.
    record_id: str = field(default_factory=StatusAndHeadersParser.make_warc_id)

    def write_to(self, writer: CaptureWriter) -> None:
        writer.write(self)


#: Where an exchange's records are in a captures file: offset and length in bytes (its response
#: and request records, a gzip member each).
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class CopiedExchange:
    """An exchange already recorded in another captures file, copied as it is there."""

    source: str  # the captures file's path
    span: Span
    record_id: str  # its response record's ID

    def write_to(self, writer: CaptureWriter) -> None:
        writer.copy(self)


class _HexDigester(Digester):  # type: ignore[misc]
    """SHA-256 digests written ``sha256:<hex>`` (as Webrecorder's tools write them): a response's
    payload digest reads as the pages table's ``body_sha256`` when the body has no
    Content-Encoding (warcio checks base 16 as it does base 32)."""

    def __str__(self) -> str:
        return f"{self.type_}:{self.digester.hexdigest()}"


class _GzipMember(GzippingWrapper):  # type: ignore[misc]
    """A record as one gzip member, as warcio writes it, compressed by ISA-L (``isal``) at its
    level 1: a tenth of the time of zlib's fastest level for smaller output, twenty times less
    than warcio's level 9 (BENCHMARKS.md, "Captures"). The output is plain gzip."""

    def __init__(self, out: BinaryIO) -> None:  # not warcio's: it would make a zlib compressor
        self.out = out
        self.compressor = _deflate.compressobj(1, _deflate.DEFLATED, _deflate.MAX_WBITS + 16)


class _WARCWriter(WARCWriter):  # type: ignore[misc]
    """warcio's writer: WARC/1.1, SHA-256 digests, a gzip member per record."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__(out, gzip=False, warc_version="1.1")  # gzip: by _write_warc_record

    def _write_warc_record(self, out: BinaryIO, record: Any) -> None:
        super()._write_warc_record(_GzipMember(out), record)

    @staticmethod
    def _create_digester() -> Digester:
        return _HexDigester("sha256")


def warc_date(moment: datetime) -> str:
    """*moment* as a WARC/1.1 date, to the microsecond (``2026-11-24T19:45:12.123456Z``)."""
    return str(datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True))


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
        self._warc = _WARCWriter(file)
        self._warc.write_record(self._warc.create_warcinfo_record(CAPTURES_FILE, dict(info)))
        #: Response record ID -> where its exchange is in this file.
        self.spans: dict[str, Span] = {}
        self._sources: dict[str, BinaryIO] = {}

    def write(self, exchange: Exchange) -> None:
        """Record *exchange*: its response, then the request it answered."""
        start = self._file.tell()
        date = warc_date(exchange.date)
        extra = {
            "WARC-Record-ID": exchange.record_id,
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
        self.spans[exchange.record_id] = (start, self._file.tell() - start)

    def copy(self, copied: CopiedExchange) -> None:
        """Record *copied* as its source holds it (the caller checked the span)."""
        source = self._sources.get(copied.source)
        if source is None:
            # Never through a link planted at the version's captures since they were checked.
            fd = os.open(copied.source, os.O_RDONLY | os.O_NOFOLLOW)
            source = self._sources[copied.source] = os.fdopen(fd, "rb")
        offset, length = copied.span
        source.seek(offset)
        data = source.read(length)
        if len(data) != length:
            raise OSError(f"{copied.source} ends before the record {copied.record_id}")
        self.spans[copied.record_id] = (self._file.tell(), length)
        self._file.write(data)

    def close(self) -> None:
        """Flush the file to disk and close it."""
        try:
            for source in self._sources.values():
                source.close()
            self._file.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class CaptureProcess:
    """A :class:`CaptureWriter` in a child process (see the module docstring), writing to
    *file* (which it takes over: closed here)."""

    def __init__(self, file: BinaryIO, info: Mapping[str, str]) -> None:
        fd = file.fileno()
        # The writer imports exitscrape as this process does (from a scrapyd egg, say).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "exitscrape.evidence.writer", str(fd)],
            bufsize=_BUFFER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(fd,),
            env=env,
            start_new_session=True,  # Ctrl-C stops the crawl, which then closes the writer
        )
        file.close()
        assert self._process.stdin is not None
        self._pipe = self._process.stdin
        with contextlib.suppress(OSError, AttributeError):  # Linux: fewer, larger pipe writes
            fcntl.fcntl(self._pipe.fileno(), fcntl.F_SETPIPE_SZ, _BUFFER)
        self._failure: str | None = None
        self._closed = False
        #: Where each exchange is in the file, once it is closed (:meth:`CaptureWriter.spans`).
        self.spans: dict[str, Span] = {}
        self._send(dict(info))

    def write(self, exchange: Exchange | CopiedExchange) -> None:
        """Hand *exchange* to the writer (waiting while the pipe is full)."""
        self._send(exchange)

    def _send(self, item: object) -> None:
        try:
            pickle.dump(item, self._pipe, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:  # the writer stopped: say why
            self.close()
            raise OSError("the captures writer stopped") from None

    def abort(self) -> None:
        """Stop the writer without waiting for it (its file is to be thrown away)."""
        if not self._closed:
            self._closed = True
            self._process.kill()
            self._process.wait()
            for pipe in (self._pipe, self._process.stdout):
                with contextlib.suppress(OSError):
                    if pipe is not None:
                        pipe.close()

    def close(self) -> None:
        """Let the writer finish and close the file; :class:`OSError` when it failed."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):  # a writer gone already
                self._pipe.close()
            assert self._process.stdout is not None
            with self._process.stdout as said:  # it closes its end when it exits
                status = said.read().decode("utf-8", "replace").strip().splitlines()
            self._process.wait()
            if status[-1:] != [_DONE]:  # its last word (an exit status may be reaped by others)
                self._failure = status[-1] if status else f"exit {self._process.returncode}"
            else:
                spans = json.loads(status[-2]) if len(status) > 1 else {}
                self.spans = {record: (span[0], span[1]) for record, span in spans.items()}
        if self._failure:
            raise OSError(f"the captures writer failed: {self._failure}")


_DONE = "captures written"
#: Bytes of exchanges waiting for the writer, in this process and in the pipe (each at most):
#: past that, the crawl waits for the writer.
_BUFFER = 1024 * 1024


def main(fd: int) -> None:
    """The writer process: the warcinfo fields, then exchanges, pickled on stdin until its end;
    the captures written to the file open as *fd*, then the spans (JSON) and :data:`_DONE` on
    stdout."""
    source = sys.stdin.buffer
    try:
        with os.fdopen(fd, "wb") as file:
            writer = CaptureWriter(file, pickle.load(source))
            while True:
                try:
                    exchange = pickle.load(source)
                except EOFError:
                    break
                # Unpickled as exitscrape.evidence.writer's classes, not this __main__'s.
                exchange.write_to(writer)
            writer.close()
    except Exception as error:
        print(f"{type(error).__name__}: {error}", flush=True)
        sys.exit(1)
    print(json.dumps(writer.spans), flush=True)
    print(_DONE, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))

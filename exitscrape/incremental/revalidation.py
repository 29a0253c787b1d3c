"""The quick check's conditional requests, sent straight to the site over keep-alive HTTP/1.1.

A rerun asks again for every page of the last crawl (:mod:`exitscrape.incremental.quickcheck`).
Through Scrapy each of those requests costs about a millisecond of CPU (engine, scheduler, a dozen
middlewares, signals): on a site of 1,000 pages more than everything else a rerun does. Sent
here, over a few connections kept open, 1,000 of them take a few tens of milliseconds.

Only answers that need no interpretation are taken from here, and passed on as they come:

* ``304 Not Modified``: the page is as the last crawl read it;
* ``200``: the site says the page changed since (its validator no longer matches); the body is
  not read here, the crawl fetches and reads the page.

Anything else (a redirect, a 4xx, an answer that is not HTTP/1.x, a malformed or oversized
header block) leaves that page to the check's requests through Scrapy, which handle it as they
always did (redirects, retries, ``Retry-After``, the HEAD fallback, error records). ``429``, a
5xx, a refused or failed connection and a timeout end the pass at once, leaving every page not
answered yet to those requests. Nothing here retries.

Politeness is the crawl's: the caller sends only what robots.txt allows; at most
``CONCURRENT_REQUESTS_PER_DOMAIN`` (and ``CONCURRENT_REQUESTS``, and the site's
``DOWNLOAD_SLOTS`` concurrency) connections; one request per delay when ``DOWNLOAD_DELAY``, the
site's ``DOWNLOAD_SLOTS`` delay, robots.txt's ``Crawl-delay`` or AutoThrottle's start delay ask
for one; the crawl's ``User-Agent`` and default headers. :func:`unavailable` says when the pass
cannot stand for Scrapy's requests (another reactor, a proxy, another download handler).
"""

from __future__ import annotations

import asyncio
import re
import ssl
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.httpcompression import ACCEPTED_ENCODINGS
from scrapy.settings import BaseSettings
from scrapy.utils.reactor import is_asyncio_reactor_installed

#: The download handler the pass stands for: Scrapy's HTTP/1.1 client.
_SCRAPY_HANDLER = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
#: The most a status line and headers may take: a larger block ends the pass.
HEAD_LIMIT = 64 * 1024
#: Answers taken from here (see the module docstring).
NOT_MODIFIED = 304
MODIFIED = 200
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-5][0-9][0-9])(?: [^\r\n]*)?\r\n")
_TARGET = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no space: a request target as sent
_VALUE = re.compile(r"[\x20-\x7e]*")  # a header value: printable ASCII, no CR or LF

#: Called with each page's answer (:data:`NOT_MODIFIED` or :data:`MODIFIED`); ``True`` ends the
#: pass (the crawl has begun).
Answered = Callable[[str, int], bool]


@dataclass(frozen=True, slots=True)
class Conditional:
    """One conditional request: *validators* are ``If-None-Match`` / ``If-Modified-Since``."""

    url: str
    method: str
    validators: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Limits:
    """How the pass treats the site: as politely as the crawl does."""

    connections: int
    delay: float  # seconds between two requests (0: none)
    timeout: float  # seconds for a connection, or an answer
    headers: tuple[tuple[str, str], ...]  # sent with every request (User-Agent, Accept...)

    @classmethod
    def from_settings(
        cls,
        settings: BaseSettings,
        crawl_delay: float | None,
        slot: Mapping[str, Any] | None = None,
    ) -> Limits:
        """The limits for a site whose robots.txt asks for *crawl_delay*, and whose download
        slot has *slot* settings (a ``DOWNLOAD_SLOTS`` entry: ``delay``, ``concurrency``)."""
        slot = slot or {}
        delays = [settings.getfloat("DOWNLOAD_DELAY"), crawl_delay or 0.0]
        delays.append(float(slot.get("delay") or 0.0))
        if settings.getbool("AUTOTHROTTLE_ENABLED"):
            delays.append(settings.getfloat("AUTOTHROTTLE_START_DELAY"))
        connections = min(
            settings.getint("CONCURRENT_REQUESTS"),
            settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            int(slot.get("concurrency") or settings.getint("CONCURRENT_REQUESTS")),
        )
        headers = {
            _text(name): _text(value)
            for name, value in settings.getdict("DEFAULT_REQUEST_HEADERS").items()
        }
        if settings.getbool("COMPRESSION_ENABLED"):
            headers.setdefault("Accept-Encoding", b", ".join(ACCEPTED_ENCODINGS).decode())
        if settings.get("USER_AGENT"):
            headers["User-Agent"] = settings["USER_AGENT"]
        return cls(
            connections=max(1, connections),
            delay=max(delays),
            timeout=settings.getfloat("DOWNLOAD_TIMEOUT") or 180.0,
            headers=tuple(headers.items()),
        )


def _text(value: Any) -> str:
    """A header name or value from settings (``str`` or ``bytes``, as Scrapy takes them)."""
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def unavailable(settings: BaseSettings, url: str) -> str | None:
    """Why the pass cannot stand for Scrapy's requests to *url*'s site, or ``None``."""
    parts = urlsplit(url)
    if not settings.getbool("EXITSCRAPE_DIRECT_CHECK"):
        return "EXITSCRAPE_DIRECT_CHECK is off"
    if parts.scheme not in ("http", "https"):
        return f"{parts.scheme}: is not HTTP"
    if not is_asyncio_reactor_installed():
        return "the reactor is not asyncio's"
    if settings.getwithbase("DOWNLOAD_HANDLERS").get(parts.scheme) != _SCRAPY_HANDLER:
        return f"{parts.scheme}: URLs have another download handler"
    proxied = settings.getbool("HTTPPROXY_ENABLED") and parts.scheme in urllib.request.getproxies()
    if proxied and not urllib.request.proxy_bypass(parts.hostname or ""):
        return "a proxy is set"
    return None


def request_bytes(request: Conditional, host: str, headers: Iterable[tuple[str, str]]) -> bytes:
    """*request* as sent; :class:`ValueError` when a part could not be sent as it is (a control
    character in a validator, say): such a page is left to Scrapy."""
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not _TARGET.fullmatch(target) or request.method not in ("GET", "HEAD"):
        raise ValueError(f"cannot send {request.method} {target[:200]!r}")
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {host}"]
    for name, value in (*headers, *request.validators):
        if not _VALUE.fullmatch(value):
            raise ValueError(f"cannot send the {name} header {value[:200]!r}")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def read_head(head: bytes) -> tuple[int, bool]:
    """The status of an answer's status line and headers, and whether the connection stays
    open after it; :class:`ValueError` when they are not HTTP/1.x."""
    match = _STATUS_LINE.match(head)
    if match is None:
        raise ValueError(f"not an HTTP/1.x answer: {head[:80]!r}")
    tokens: set[bytes] = set()
    for line in head[match.end() :].split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if line and not colon:
            raise ValueError(f"malformed header line: {line[:80]!r}")
        if name.strip().lower() == b"connection":
            tokens.update(token.strip().lower() for token in value.split(b","))
    if match.group(1) == b"1":
        return int(match.group(2)), b"close" not in tokens
    return int(match.group(2)), b"keep-alive" in tokens


class _Pacer:
    """One request every *delay* seconds across all connections, as Scrapy's download slot."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._next = 0.0

    def wait_for(self, now: float) -> float:
        """Seconds to wait, at *now*, before the next request may go."""
        if self.delay <= 0:
            return 0.0
        at = max(now, self._next)
        self._next = at + self.delay
        return at - now


class _Pass:
    def __init__(self, requests: Iterable[Conditional], limits: Limits, answered: Answered) -> None:
        self.queue = deque(requests)
        self.limits = limits
        self.answered = answered
        self.pacer = _Pacer(limits.delay)
        self.stopped: str | None = None
        first = urlsplit(self.queue[0].url) if self.queue else None
        self.origin = (first.scheme, first.hostname, first.port) if first else None
        self.host = first.netloc if first else ""

    def _going(self) -> bool:
        return self.stopped is None

    def _same_origin(self, request: Conditional) -> bool:
        parts = urlsplit(request.url)
        return (parts.scheme, parts.hostname, parts.port) == self.origin and not parts.username

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        assert self.origin is not None
        scheme, host, port = self.origin
        context = ssl.create_default_context() if scheme == "https" else None
        return await asyncio.open_connection(
            host,
            port or (443 if scheme == "https" else 80),
            ssl=context,
            limit=HEAD_LIMIT,
        )

    async def work(self) -> None:
        loop = asyncio.get_running_loop()
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        url = ""
        try:
            while self.queue and self._going():
                request = self.queue.popleft()
                url = request.url
                if not self._same_origin(request):
                    continue
                try:
                    data = request_bytes(request, self.host, self.limits.headers)
                except ValueError:
                    continue  # left to Scrapy
                if pause := self.pacer.wait_for(loop.time()):
                    await asyncio.sleep(pause)
                    if not self._going():  # another connection ended the pass meanwhile
                        break
                async with asyncio.timeout(self.limits.timeout):
                    if connection is None:
                        connection = await self._connect()
                    reader, writer = connection
                    writer.write(data)
                    head = await reader.readuntil(b"\r\n\r\n")
                status, keep_alive = read_head(head)
                if status in (NOT_MODIFIED, MODIFIED) and self.answered(url, status):
                    self.stopped = "the crawl has begun"
                if status != NOT_MODIFIED or not keep_alive:  # a body, unread: a new connection
                    connection[1].close()
                    connection = None
                if status == 429 or status >= 500:
                    self.stopped = f"{url} answered HTTP {status}"
        except (OSError, TimeoutError, ValueError, EOFError, asyncio.LimitOverrunError) as error:
            why = str(error).strip() or type(error).__name__
            self.stopped = self.stopped or f"{url}: {why[:200]}"
        finally:
            if connection is not None:
                connection[1].close()


async def revalidate(
    requests: Iterable[Conditional], limits: Limits, answered: Answered
) -> str | None:
    """Send *requests* (all to one site; another origin's are skipped) and pass each answer
    taken from here to *answered*, as it comes; why the pass ended early, or ``None``.

    Cancelling it (Ctrl-C stops the crawl) closes every connection."""
    run = _Pass(requests, limits, answered)
    if run.origin is None:
        return None
    async with asyncio.TaskGroup() as group:
        for _ in range(min(limits.connections, len(run.queue))):
            group.create_task(run.work())
    return run.stopped

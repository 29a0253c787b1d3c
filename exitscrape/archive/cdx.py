"""The CDX API of a Wayback-style archive: when were the site's pages captured?

pywb and the Wayback Machine speak one query language (``url``, ``matchType``, ``from``, ``to``,
``output=json``) but answer ``output=json`` differently: pywb with one JSON object a line, the
Wayback Machine with one JSON array of rows whose first row names the fields. Both are read here.
Answers are untrusted: a row that is not a capture of the site (another host, a ``file:`` URL,
a bad timestamp) is dropped, and a response is read to a bounded size.
"""

from __future__ import annotations

import calendar
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from exitscrape.archive.replay import RETRY_STATUSES, parse_timestamp, retry_after, site_host
from exitscrape.settings import EXITSCRAPE_ARCHIVE_USER_AGENT

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_PERIOD = re.compile(r"([1-9][0-9]{0,3})([dwmy])")


class CdxError(Exception):
    """The CDX API could not be read, or answered something that is not CDX JSON."""


@dataclass(frozen=True, slots=True)
class CdxRecord:
    """One capture: when (14-digit UTC timestamp), of which URL, with what status and type."""

    timestamp: str
    url: str
    status: int | None
    mime: str | None
    digest: str | None = None

    @property
    def captured_at(self) -> datetime:
        return parse_timestamp(self.timestamp)

    @property
    def is_page(self) -> bool:
        """A successful capture of a web page (not a redirect, an image, a revisit record)."""
        return self.status == 200 and (self.mime or "").split(";")[0].strip() in _HTML_TYPES


def _record(row: dict[str, Any]) -> CdxRecord | None:
    """A record from one row of either dialect's field names; ``None`` when it is no capture."""
    timestamp = row.get("timestamp")
    url = row.get("url", row.get("original"))
    status = row.get("status", row.get("statuscode"))
    mime = row.get("mime", row.get("mimetype"))
    digest = row.get("digest")
    if not isinstance(timestamp, str) or not isinstance(url, str):
        return None
    try:
        parse_timestamp(timestamp)
    except ValueError:
        return None
    if site_host(url) is None:
        return None
    code = int(status) if isinstance(status, str) and status.isascii() and status.isdigit() else 0
    return CdxRecord(
        timestamp=timestamp,
        url=url,
        status=code if 100 <= code <= 599 else None,  # "-" for revisit records
        mime=mime if isinstance(mime, str) else None,
        digest=digest if isinstance(digest, str) else None,
    )


def parse_cdx(body: bytes) -> list[CdxRecord]:
    """The captures in a CDX API answer to ``output=json``, in either dialect."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CdxError(f"the CDX answer is not UTF-8: {error}") from None
    text = text.strip()
    rows: list[Any]
    try:
        if text.startswith("["):  # the Wayback Machine: [[field, ...], [value, ...], ...]
            table = json.loads(text)
            header = table[0] if isinstance(table, list) and table else []
            if not isinstance(header, list) or not all(isinstance(h, str) for h in header):
                raise CdxError("the CDX answer's first row is not a list of field names")
            # Rows of another length (the [] and [resume key] that end a paged answer) are
            # not captures.
            rows = [
                dict(zip(header, row, strict=True))
                for row in table[1:]
                if isinstance(row, list) and len(row) == len(header)
            ]
        else:  # pywb: one JSON object a line
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (ValueError, RecursionError) as error:  # ValueError: also a 5000-digit number
        raise CdxError(f"the CDX answer is not JSON ({error}): {text[:80]!r}") from None
    records = (_record(row) for row in rows if isinstance(row, dict))
    return [record for record in records if record is not None]


class _HttpRedirectsOnly(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to another http(s) URL (urllib's own also follows ftp:)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise CdxError(
                f"the CDX API redirected {req.full_url} where it cannot be followed: "
                f"{newurl!r} is not http(s)"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class CdxClient:
    """A polite client of one CDX API: named by its User-Agent, one request at a time, bounded
    in time (*timeout* per read, *max_seconds* per answer) and size (*max_bytes*), trying again
    on 429, 502, 503 and 504 at most *retries* times, after ``Retry-After`` when the archive
    sends one, else after *backoff* seconds, doubled each time; never waiting over
    *max_wait*."""

    def __init__(
        self,
        endpoint: str,
        *,
        user_agent: str = EXITSCRAPE_ARCHIVE_USER_AGENT,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 5.0,
        max_wait: float = 300.0,
        max_bytes: int = 64 * 1024 * 1024,
        max_seconds: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(f"the CDX API must be an http(s) URL, got {endpoint!r}")
        self.endpoint = endpoint
        self.user_agent = user_agent
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.sleep = sleep
        self._opener = urllib.request.build_opener(_HttpRedirectsOnly())

    def query(self, **params: str) -> list[CdxRecord]:
        """The records for one query (``url=...``, ``matchType=...``, ``from=...``, ...)."""
        separator = "&" if urlsplit(self.endpoint).query else "?"
        url = self.endpoint + separator + urlencode({**params, "output": "json"})
        return parse_cdx(self.get(url))

    def captures(
        self, site_url: str, start: str | None = None, end: str | None = None
    ) -> list[CdxRecord]:
        """Every capture of the site's host (``www.`` or not) between two 14-digit timestamps,
        oldest first; records of any other host are dropped."""
        host = site_host(site_url)
        if host is None:
            raise ValueError(f"the site must be an http(s) URL, got {site_url!r}")
        params = {"url": host, "matchType": "host"}
        if start:
            params["from"] = start
        if end:
            params["to"] = end
        records = [
            r
            for r in self.query(**params)
            if site_host(r.url) == host
            and (not start or r.timestamp >= start)
            and (not end or r.timestamp <= end)
        ]
        return sorted(records, key=lambda r: (r.timestamp, r.url))

    def get(self, url: str) -> bytes:
        """The body at *url*, after at most ``retries`` more tries on a busy archive."""
        request = urllib.request.Request(
            url, headers={"User-Agent": self.user_agent, "Accept": "application/json"}
        )
        attempt = 0
        while True:
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return self._read(response, url)
            except urllib.error.HTTPError as error:
                error.close()
                if 300 <= error.code < 400:  # to a URL not http(s), or in a loop
                    raise CdxError(
                        f"the CDX API redirected {url} where it cannot be followed: {error.reason}"
                    ) from None
                if error.code not in RETRY_STATUSES or attempt == self.retries:
                    raise CdxError(f"the CDX API answered HTTP {error.code} for {url}") from None
                wait = retry_after(error.headers.get("Retry-After"), datetime.now(UTC))
                problem = f"HTTP {error.code}"
            except (urllib.error.URLError, OSError) as error:
                if attempt == self.retries:
                    raise CdxError(f"cannot read the CDX API at {url}: {error}") from None
                wait, problem = None, str(error)
            if wait is None:
                wait = self.backoff * 2**attempt
            if wait > self.max_wait:
                raise CdxError(
                    f"the CDX API at {url} asks to wait {wait:.0f} s ({problem}), longer than "
                    f"{self.max_wait:.0f} s: try again later"
                )
            self.sleep(wait)
            attempt += 1

    def _read(self, response: Any, url: str) -> bytes:
        deadline = time.monotonic() + self.max_seconds
        chunks, size = [], 0
        while chunk := response.read(1 << 16):
            size += len(chunk)
            if size > self.max_bytes:
                raise CdxError(
                    f"the CDX answer from {url} is larger than {self.max_bytes} bytes: "
                    "ask for a shorter time range"
                )
            if time.monotonic() > deadline:
                raise CdxError(f"the CDX answer from {url} took too long to arrive")
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class Period:
    """A length of time: *count* days, weeks, calendar months or calendar years."""

    count: int
    unit: str  # "d", "w", "m" or "y"

    @classmethod
    def parse(cls, text: str) -> Period:
        """``1d``, ``2w``, ``1m``, ``30d``, ``1y``: days, weeks (7 days), calendar months (the
        same day of a later month, the month's last when it is shorter), calendar years."""
        match = _PERIOD.fullmatch(text.strip().lower())
        if match is None:
            raise ValueError(
                f"not a period: {text!r}; use a count and a unit, d (days), w (weeks), "
                "m (months) or y (years): 1d, 2w, 1m, 30d, 1y"
            )
        return cls(int(match[1]), match[2])

    def after(self, start: datetime, periods: int) -> datetime:
        """The time *periods* periods after *start*."""
        if self.unit in ("d", "w"):
            return start + timedelta(days=self.count * periods * (7 if self.unit == "w" else 1))
        months = start.month - 1 + self.count * periods * (12 if self.unit == "y" else 1)
        year, month = start.year + months // 12, months % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day)

    def index(self, start: datetime, when: datetime) -> int:
        """Which period after *start* holds *when* (0 for the first)."""
        if self.unit in ("d", "w"):
            return (when - start) // (self.after(start, 1) - start)
        # Months are not equally long: estimate by calendar months, then step to the period.
        months = (when.year - start.year) * 12 + when.month - start.month
        guess = max(0, months // (self.count * (12 if self.unit == "y" else 1)))
        while guess > 0 and self.after(start, guess) > when:
            guess -= 1
        while self.after(start, guess + 1) <= when:
            guess += 1
        return guess


def capture_times(
    records: Iterable[CdxRecord], start: str, end: str | None, every: Period | str
) -> list[str]:
    """At most one capture time per period, oldest first: the latest capture of a web page
    (:attr:`CdxRecord.is_page`) in each period of length *every* from *start* (14 digits) up
    to *end* (14 digits, inclusive; ``None``: no end). The latest, so that a crawl as of it
    sees the site as it stood at the end of its period."""
    period = Period.parse(every) if isinstance(every, str) else every
    origin = parse_timestamp(start)
    chosen: dict[int, str] = {}
    for record in records:
        if not record.is_page or record.timestamp < start or (end and record.timestamp > end):
            continue
        slot = period.index(origin, record.captured_at)
        if record.timestamp > chosen.get(slot, ""):
            chosen[slot] = record.timestamp
    return [chosen[slot] for slot in sorted(chosen)]

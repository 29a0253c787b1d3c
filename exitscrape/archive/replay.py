"""Wayback-style archives: replay and CDX endpoints, raw replay URLs, and their timestamps.

An archive is named by its replay endpoint: ``wayback`` (the Internet Archive,
``https://web.archive.org/web/``) or the URL of a pywb or OpenWayback collection
(``http://127.0.0.1:8080/my-collection/``). A page of the site is read from it unmodified as
``ARCHIVE + TIMESTAMP + "id_/" + URL``: the capture nearest TIMESTAMP. Timestamps are the
archives' 14 digits, ``YYYYMMDDhhmmss``, in UTC.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

WAYBACK = "https://web.archive.org/web/"
WAYBACK_CDX = "https://web.archive.org/cdx/search/cdx"
ALIASES = {"wayback": WAYBACK}

_FORMAT = "%Y%m%d%H%M%S"
_DIGITS = re.compile(r"[0-9]{4}(?:[0-9]{2}){0,5}")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")
# After the replay prefix: a timestamp, an optional mode (id_, mp_, ...), then the page's URL.
_REPLAY_PATH = re.compile(r"([0-9]{1,14})(?:[a-z]{2}_)?/(.+)", re.DOTALL)
_DATE_HELP = (
    "use YYYY, YYYY-MM, YYYY-MM-DD, an ISO 8601 date-time (2019-06-01T12:00:00Z) or a "
    "14-digit timestamp (YYYYMMDDhhmmss)"
)


def _http_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http(s) URL, got {url!r}")
    if parts.username or parts.password:
        raise ValueError(f"{what} must not hold credentials: the data would record them")
    return url


@dataclass(frozen=True, slots=True)
class Archive:
    """A Wayback-style archive: its replay endpoint (ending in ``/``) and its CDX API."""

    replay: str
    cdx: str

    @classmethod
    def parse(cls, spec: str, cdx: str | None = None) -> Archive:
        """The archive *spec* names: ``wayback`` or a collection's replay URL. Its CDX API is
        *cdx* if given, else the Wayback Machine's for it, else ``<collection>/cdx`` (pywb)."""
        spec = spec.strip()
        replay = ALIASES.get(spec.lower(), spec)
        parts = urlsplit(_http_url(replay, "the archive"))
        if parts.query or parts.fragment:
            raise ValueError(f"the archive's URL must have no query or fragment, got {spec!r}")
        if not replay.endswith("/"):
            replay += "/"
        if cdx is None:
            wayback = parts.hostname == "web.archive.org" and parts.path.rstrip("/") == "/web"
            cdx = WAYBACK_CDX if wayback else replay + "cdx"
        return cls(replay=replay, cdx=_http_url(cdx, "the CDX API"))

    def raw_url(self, url: str, timestamp: str) -> str:
        """The raw (``id_``) replay URL of *url*'s capture nearest *timestamp*."""
        _http_url(url, "a site URL")
        parse_timestamp(timestamp)
        return f"{self.replay}{timestamp}id_/{url.split('#', 1)[0]}"

    def split(self, url: str) -> tuple[str, str] | None:
        """``(site URL, timestamp)`` of one of this archive's replay URLs; ``None`` for any
        other URL (a site URL, another host, a page of the archive that replays nothing)."""
        rest = _after_prefix(url, self.replay)
        match = _REPLAY_PATH.fullmatch(rest) if rest is not None else None
        if match is None:
            return None
        timestamp, original = match.groups()
        # Some servers collapse "//" in paths: https:/host/page.
        original = re.sub(r"^(https?):/+", r"\1://", original, flags=re.IGNORECASE)
        if "://" not in original:
            original = "http://" + original  # the archives' default for a bare host/path
        parts = urlsplit(original)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        return original, timestamp

    def between_captures(self, site_url: str, location: str) -> bool:
        """Whether a redirect to *location*, met reading *site_url*, is the archive moving to
        another capture of the same page (as the Wayback Machine does, to the exact timestamp),
        not a redirect of the site's."""
        replayed = self.split(location)
        return replayed is not None and same_page(replayed[0], site_url)


def _after_prefix(url: str, prefix: str) -> str | None:
    """What follows *prefix* in *url*; scheme and host compare case-insensitively."""
    got, want = urlsplit(url), urlsplit(prefix)
    if (got.scheme.lower(), got.netloc.lower()) != (want.scheme.lower(), want.netloc.lower()):
        return None
    rest = url[len(f"{got.scheme}://{got.netloc}") :]
    return rest[len(want.path) :] if rest.startswith(want.path) else None


def site_host(url: str) -> str | None:
    """The host of an http(s) URL without ``www.``, with its port unless the default: the
    archives index ``http://site/`` and ``https://www.site/`` as one. ``None`` for other URLs."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.removeprefix("www.")
    return host if port in (None, 80, 443) else f"{host}:{port}"


def same_page(a: str, b: str) -> bool:
    """Whether two URLs name one page as the archives index it (scheme and ``www.`` aside)."""
    first, second = urlsplit(a), urlsplit(b)
    return (
        site_host(a) is not None
        and site_host(a) == site_host(b)
        and (first.path or "/", first.query) == (second.path or "/", second.query)
    )


def format_timestamp(when: datetime) -> str:
    """*when* as a 14-digit timestamp in UTC (a naive datetime is taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(_FORMAT)


def parse_timestamp(timestamp: str) -> datetime:
    """A 14-digit timestamp as an aware UTC datetime."""
    if not (len(timestamp) == 14 and timestamp.isascii() and timestamp.isdigit()):
        raise ValueError(f"not a 14-digit timestamp (YYYYMMDDhhmmss): {timestamp!r}")
    try:
        return datetime.strptime(timestamp, _FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"not a valid time: {timestamp!r}") from None


def parse_at(text: str, *, end: bool = True) -> str:
    """A date as a 14-digit timestamp: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, an ISO 8601
    date-time (UTC unless it has an offset) or digits ``YYYY[MM[DD[hh[mm[ss]]]]]``.

    A date that names a period (a year, a month, a day, ...) stands for its last second with
    *end* (as the archives read a partial timestamp: ``--at``, ``--to``), for its first without
    (``--from``).
    """
    value = text.strip()
    fields: list[int]
    if _DIGITS.fullmatch(value):
        fields = [int(value[:4])] + [int(value[i : i + 2]) for i in range(4, len(value), 2)]
    elif match := _ISO_DATE.fullmatch(value):
        fields = [int(group) for group in match.groups() if group]
    elif _ISO_DATE.match(value) and value[10:11] in ("T", " "):
        try:
            return format_timestamp(datetime.fromisoformat(value))
        except ValueError:
            raise ValueError(f"not a date: {text!r}; {_DATE_HELP}") from None
    else:
        raise ValueError(f"not a date: {text!r}; {_DATE_HELP}")
    if len(fields) < 6:
        year, month = fields[0], fields[1] if len(fields) > 1 else (12 if end else 1)
        month_end = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 31
        fill = [12, month_end, 23, 59, 59] if end else [1, 1, 0, 0, 0]
        fields += fill[len(fields) - 1 :]
    try:
        year, month, day, hour, minute, second = fields
        return format_timestamp(datetime(year, month, day, hour, minute, second, tzinfo=UTC))
    except ValueError:
        raise ValueError(f"not a valid date: {text!r}; {_DATE_HELP}") from None


def parse_memento_datetime(value: str | bytes) -> datetime:
    """A ``Memento-Datetime`` header (RFC 1123, GMT) as an aware UTC datetime."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None or when.tzinfo is None or not text.strip().endswith("GMT"):
        raise ValueError(f"not a Memento-Datetime (e.g. 'Sat, 01 Jun 2019 12:00:00 GMT'): {text!r}")
    return when.astimezone(UTC)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait by a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


#: The archive's own statuses worth another try: it is busy or throttling.
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Memento:
    """The capture a page was read from: when the archive captured it, and its raw replay URL."""

    captured_at: datetime
    url: str


@dataclass(frozen=True, slots=True)
class ArchiveSource:
    """Where an archive crawl reads the site: *archive*, as of *at* (14 digits; ``None``: the
    newest captures). Replay URLs carry *replay_at*: *at*, else when the crawl started."""

    archive: Archive
    at: str | None
    replay_at: str

    def manifest(self, captured: list[datetime]) -> tuple[datetime | None, dict[str, object]]:
        """The version's ``as_of`` (*at*, else the newest capture read; ``None`` without either)
        and the manifest's ``source``, from the capture times of the pages read."""
        at = parse_timestamp(self.at) if self.at else None
        captures = (
            {"first": min(captured).isoformat(), "last": max(captured).isoformat()}
            if captured
            else None
        )
        as_of = at or (max(captured) if captured else None)
        return as_of, {
            "archive": self.archive.replay,
            "at": at.isoformat() if at else None,
            "captures": captures,
        }


class ArchiveError(Exception):
    """The archive gave no capture of a page: the page fails with this message."""


class NotArchived(ArchiveError):
    """The archive holds no capture of the page."""

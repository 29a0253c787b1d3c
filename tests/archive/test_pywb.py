"""The archive modules against a real archive: pywb serving WARC captures of the snapshot."""

from __future__ import annotations

import urllib.error
import urllib.request
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import pytest

from exitscrape.archive.cdx import CdxClient, capture_times
from exitscrape.archive.replay import Archive, format_timestamp, parse_at, parse_memento_datetime
from exitscrape.snapshot.server import SNAPSHOT_DIR
from tests.archive.conftest import (
    CHANGED,
    FIRST,
    HII_AFTER,
    HII_BEFORE,
    NEVER,
    NOT_FOUND,
    REDIRECT,
    REMOVED,
    SECOND,
    THIRD,
)
from tests.archive.pywb_server import SITE, Pywb

FIRST_TS, SECOND_TS, THIRD_TS = map(format_timestamp, (FIRST, SECOND, THIRD))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str) -> tuple[int, Message, bytes]:
    """Status, headers and body of *url*, redirects not followed."""
    opener = urllib.request.build_opener(_NoRedirects())
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def test_cdx_api_lists_every_capture_of_the_site(pywb_archive: Pywb) -> None:
    archive = Archive.parse(pywb_archive.url)
    assert archive.cdx == pywb_archive.url + "cdx"
    records = CdxClient(archive.cdx).captures(SITE)
    assert [r.timestamp for r in records] == sorted(r.timestamp for r in records)
    by_date = {
        ts: {urlsplit(r.url).path: r for r in records if r.timestamp == ts}
        for ts in (FIRST_TS, SECOND_TS)
    }
    assert {r.timestamp for r in records} == {FIRST_TS, SECOND_TS, THIRD_TS}
    files = {"/" + p.relative_to(SNAPSHOT_DIR).as_posix() for p in SNAPSHOT_DIR.rglob("*.*")}
    assert set(by_date[FIRST_TS]) == files | {"/", f"/{REDIRECT}"}
    assert set(by_date[SECOND_TS]) == files | {"/"}
    assert by_date[FIRST_TS][f"/{REDIRECT}"].status == 301
    assert by_date[SECOND_TS][f"/{REMOVED}"].status == 404
    assert by_date[FIRST_TS][f"/{REMOVED}"].is_page
    robots = by_date[SECOND_TS]["/robots.txt"]
    assert (robots.status, robots.mime, robots.is_page) == (200, "text/plain", False)
    assert all(r.url.startswith(SITE) for r in records)

    every_month = capture_times(records, parse_at("2019", end=False), None, "1m")
    assert every_month == [FIRST_TS, SECOND_TS, THIRD_TS]
    assert capture_times(records, parse_at("2019", end=False), None, "5y") == [THIRD_TS]
    assert capture_times(records, parse_at("2019", end=False), parse_at("2020"), "1d") == [FIRST_TS]
    later = CdxClient(archive.cdx).captures(SITE, start=parse_at("2020", end=False))
    assert later and {r.timestamp for r in later} == {SECOND_TS, THIRD_TS}


@pytest.mark.parametrize(
    ("at", "captured", "organisation"),
    [
        ("2019", FIRST, HII_BEFORE),  # the end of 2019: nearer June 2019 than March 2021
        ("2020-03", FIRST, HII_BEFORE),  # 31 March 2020: 304 days after FIRST, 335 before SECOND
        ("2020-06", SECOND, HII_AFTER),  # 30 June 2020: 395 days after FIRST, 244 before SECOND
        ("2021-03-01", SECOND, HII_AFTER),
        (SECOND_TS, SECOND, HII_AFTER),
    ],
)
def test_raw_replay_is_the_capture_nearest_the_time_unmodified(
    pywb_archive: Pywb, at: str, captured: Any, organisation: str
) -> None:
    archive = Archive.parse(pywb_archive.url)
    status, headers, body = fetch(archive.raw_url(SITE + CHANGED, parse_at(at)))
    assert status == 200
    assert parse_memento_datetime(headers["Memento-Datetime"]) == captured
    assert headers["Content-Type"] == "text/html"
    assert organisation.encode() in body
    if captured == SECOND:  # byte for byte the file captured: no rewriting, no banner
        assert body == (SNAPSHOT_DIR / CHANGED).read_bytes()
    # pywb names the capture it served; it maps back to the site's URL.
    assert archive.split(headers["Content-Location"]) == (
        SITE + CHANGED,
        format_timestamp(captured),
    )


def test_captured_redirect_404_and_robots_replay_as_captured(pywb_archive: Pywb) -> None:
    archive = Archive.parse(pywb_archive.url)
    status, headers, body = fetch(archive.raw_url(SITE + REDIRECT, FIRST_TS))
    # The site's own redirect, with the site's own Location (not rewritten into the archive).
    assert (status, headers["Location"]) == (301, SITE)
    assert parse_memento_datetime(headers["Memento-Datetime"]) == FIRST
    assert archive.split(headers["Location"]) is None

    status, headers, body = fetch(archive.raw_url(SITE + REMOVED, SECOND_TS))
    assert (status, body) == (404, NOT_FOUND)
    assert parse_memento_datetime(headers["Memento-Datetime"]) == SECOND
    status, headers, body = fetch(archive.raw_url(SITE + REMOVED, FIRST_TS))
    assert status == 200 and parse_memento_datetime(headers["Memento-Datetime"]) == FIRST

    status, headers, body = fetch(archive.raw_url(SITE + "robots.txt", SECOND_TS))
    assert status == 200 and body == (SNAPSHOT_DIR / "robots.txt").read_bytes()
    assert headers["Content-Type"] == "text/plain"


def test_a_url_never_captured_is_pywbs_own_404(pywb_archive: Pywb) -> None:
    archive = Archive.parse(pywb_archive.url)
    status, headers, body = fetch(archive.raw_url(SITE + NEVER, SECOND_TS))
    assert status == 404
    assert "Memento-Datetime" not in headers
    assert b"could not be found in this collection" in body


def test_a_redirect_between_captures_is_told_from_a_site_redirect(pywb_exact: Pywb) -> None:
    archive = Archive.parse(pywb_exact.url)
    page = SITE + CHANGED
    status, headers, _ = fetch(archive.raw_url(page, parse_at("2019")))
    assert status == 307 and "Memento-Datetime" not in headers
    assert headers["Location"] == archive.raw_url(page, FIRST_TS)
    assert archive.between_captures(page, headers["Location"])
    # The archive indexes http://exit-practices.eu/ and https://www.exit-practices.eu/ as one.
    plain = page.replace("https://www.", "http://")
    status, headers, _ = fetch(archive.raw_url(plain, parse_at("2019")))
    assert status == 307 and headers["Location"] == archive.raw_url(page, FIRST_TS)
    assert archive.between_captures(plain, headers["Location"])
    # At its exact timestamp a capture is served at once, a captured redirect as captured.
    status, headers, _ = fetch(archive.raw_url(SITE + REDIRECT, FIRST_TS))
    assert status == 301 and "Memento-Datetime" in headers
    assert not archive.between_captures(SITE + REDIRECT, headers["Location"])

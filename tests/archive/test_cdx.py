"""The CDX API client (exitscrape.archive.cdx): both answer dialects, hostile answers, politeness
against a real HTTP server on loopback, and choosing capture times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from exitscrape.archive.cdx import CdxClient, CdxError, CdxRecord, Period, capture_times, parse_cdx
from exitscrape.settings import EXITSCRAPE_ARCHIVE_USER_AGENT
from exitscrape.snapshot.server import SiteHandler, SiteServer

SITE = "https://www.exit-practices.eu/"
# The Wayback Machine's answer to output=json: a header row, then rows; "-" for a revisit.
WAYBACK_ANSWER = json.dumps(
    [
        ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
        ["eu,exit-practices)/", "20190601120000", SITE, "text/html", "200", "AAA", "900"],
        ["eu,exit-practices)/", "20200101000000", SITE, "warc/revisit", "-", "AAA", "500"],
        [
            "eu,exit-practices)/a.html",
            "20190601120005",
            SITE + "a.html",
            "text/html",
            "404",
            "B",
            "1",
        ],
    ]
).encode()
# pywb's: one object a line, its own field names.
PYWB_ANSWER = b"""\
{"urlkey": "eu,exit-practices)/", "timestamp": "20190601120000", "url": "https://www.exit-practices.eu/", "mime": "text/html", "status": "200", "digest": "AAA"}
{"urlkey": "eu,exit-practices)/old.html", "timestamp": "20190601120000", "url": "https://www.exit-practices.eu/old.html", "mime": "unk", "status": "301"}
"""


def test_both_dialects_give_the_same_records() -> None:
    wayback = parse_cdx(WAYBACK_ANSWER)
    assert wayback == [
        CdxRecord("20190601120000", SITE, 200, "text/html", "AAA"),
        CdxRecord("20200101000000", SITE, None, "warc/revisit", "AAA"),
        CdxRecord("20190601120005", SITE + "a.html", 404, "text/html", "B"),
    ]
    assert [r.is_page for r in wayback] == [True, False, False]
    assert wayback[0].captured_at == datetime(2019, 6, 1, 12, tzinfo=UTC)
    pywb = parse_cdx(PYWB_ANSWER)
    assert pywb == [
        CdxRecord("20190601120000", SITE, 200, "text/html", "AAA"),
        CdxRecord("20190601120000", SITE + "old.html", 301, "unk", None),
    ]
    assert parse_cdx(b"") == parse_cdx(b"[]") == parse_cdx(b"\n") == []


def test_rows_that_are_not_captures_of_a_web_page_are_dropped() -> None:
    header = ["urlkey", "timestamp", "original", "mimetype", "statuscode"]
    rows = [
        ["k", "20190601120000", "file:///etc/passwd", "text/html", "200"],
        ["k", "20190601120000", "javascript:alert(1)", "text/html", "200"],
        ["k", "2019", SITE, "text/html", "200"],  # not 14 digits
        ["k", "20191301000000", SITE, "text/html", "200"],  # no 13th month
        ["k", 20190601120000, SITE, "text/html", "200"],  # not a string
        ["k", "20190601120000", SITE, "text/html", "999"],  # no such status
        ["k", "20190601120000", SITE],  # short row
        [],
        ["resume-key"],  # the end of a paged answer
        ["k", "20190601120000", SITE + "ok.html", "text/html", "200"],
    ]
    records = parse_cdx(json.dumps([header, *rows]).encode())
    assert [(r.url, r.status) for r in records] == [(SITE, None), (SITE + "ok.html", 200)]
    lines = PYWB_ANSWER + b'[1, 2]\n"text"\n{"timestamp": "20190601120000"}\n'
    assert parse_cdx(lines) == parse_cdx(PYWB_ANSWER)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>Service unavailable</html>", "not JSON"),
        (b"eu,exit-practices)/ 20190601120000 {}", "not JSON"),  # CDXJ: output=json ignored
        (b"[{}]", "first row is not a list"),
        (b'[[["urlkey"]], [1]]', "first row is not a list"),
        (b'{"timestamp": ' + b"9" * 5000 + b"}", "not JSON"),
        (b"\xff\xfe[]", "not UTF-8"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_what_is_not_cdx_json_is_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(CdxError, match=message):
        parse_cdx(body)


class CdxHandler(SiteHandler):
    """Answers each GET with the next of ``server.answers`` (status, headers, body), then with
    ``server.body``; records the path and User-Agent of each request."""

    server: CdxServer

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("User-Agent", "")))
        answer = self.server.answers.pop(0) if self.server.answers else None
        status, headers, body = answer or (200, {"Content-Type": "text/x-ndjson"}, self.server.body)
        self.send_body(status, body, headers)


class CdxServer(SiteServer):
    def __init__(self, root: Path) -> None:
        super().__init__(root, handler=CdxHandler)
        self.answers: list[tuple[int, dict[str, str], bytes]] = []
        self.body = PYWB_ANSWER
        self.seen: list[tuple[str, str]] = []


@pytest.fixture(scope="module")
def running_cdx_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CdxServer]:
    server = CdxServer(tmp_path_factory.mktemp("cdx"))
    with server:
        yield server


@pytest.fixture
def cdx_server(running_cdx_server: CdxServer) -> CdxServer:
    """The module's server, with no scripted answers and nothing seen yet."""
    running_cdx_server.answers, running_cdx_server.seen = [], []
    running_cdx_server.body = PYWB_ANSWER
    return running_cdx_server


def client(server: CdxServer, sleeps: list[float], **options: Any) -> CdxClient:
    return CdxClient(server.url + "coll/cdx", sleep=sleeps.append, **options)


def test_captures_asks_for_the_sites_host_and_keeps_only_it(cdx_server: CdxServer) -> None:
    other = b'{"timestamp": "20190601120000", "url": "https://evil.example/", "status": "200"}\n'
    cdx_server.body = PYWB_ANSWER + other
    records = client(cdx_server, []).captures(SITE, start="20190101000000", end="20191231235959")
    assert [r.url for r in records] == [SITE, SITE + "old.html"]
    path, user_agent = cdx_server.seen[0]
    assert path == (
        "/coll/cdx?url=exit-practices.eu&matchType=host&from=20190101000000&to=20191231235959"
        "&output=json"
    )
    assert user_agent == EXITSCRAPE_ARCHIVE_USER_AGENT
    # Records outside the range asked for are dropped, whatever the archive sent.
    assert client(cdx_server, []).captures(SITE, start="20200101000000") == []


def test_retry_after_is_honoured_on_429_and_503(cdx_server: CdxServer) -> None:
    soon = format_datetime(datetime.now(UTC) - timedelta(seconds=5), usegmt=True)
    cdx_server.answers = [
        (429, {"Retry-After": "7"}, b"slow down"),
        (503, {"Retry-After": soon}, b"busy"),  # a date already past: no wait
        (503, {}, b"busy"),  # no Retry-After: the backoff, doubled on each try
    ]
    sleeps: list[float] = []
    records = client(cdx_server, sleeps, backoff=2).captures(SITE)
    assert len(records) == 2
    assert sleeps == [7.0, 0.0, 8.0]
    assert len(cdx_server.seen) == 4


def test_retries_are_bounded(cdx_server: CdxServer) -> None:
    cdx_server.answers = [(429, {"Retry-After": "1"}, b"")] * 5
    sleeps: list[float] = []
    with pytest.raises(CdxError, match="answered HTTP 429"):
        client(cdx_server, sleeps, retries=2).captures(SITE)
    assert sleeps == [1.0, 1.0] and len(cdx_server.seen) == 3


def test_a_wait_longer_than_allowed_is_not_waited(cdx_server: CdxServer) -> None:
    cdx_server.answers = [(503, {"Retry-After": "3600"}, b"")]
    sleeps: list[float] = []
    with pytest.raises(CdxError, match="asks to wait 3600 s"):
        client(cdx_server, sleeps, max_wait=300).captures(SITE)
    assert sleeps == []


def test_other_errors_are_not_retried(cdx_server: CdxServer) -> None:
    cdx_server.answers = [(400, {}, b"bad query")]
    sleeps: list[float] = []
    with pytest.raises(CdxError, match="answered HTTP 400"):
        client(cdx_server, sleeps).captures(SITE)
    assert sleeps == [] and len(cdx_server.seen) == 1


def test_an_unreachable_archive_is_retried_then_reported(tmp_path: Path) -> None:
    with CdxServer(tmp_path) as server:
        url = server.url
    sleeps: list[float] = []
    gone = CdxClient(url + "cdx", sleep=sleeps.append, backoff=1, retries=2)
    with pytest.raises(CdxError, match="cannot read the CDX API"):
        gone.captures(SITE)
    assert sleeps == [1.0, 2.0]


def test_answers_are_bounded_in_size(cdx_server: CdxServer) -> None:
    cdx_server.body = PYWB_ANSWER * 1000
    with pytest.raises(CdxError, match="larger than 10000 bytes"):
        client(cdx_server, [], max_bytes=10_000).captures(SITE)


def test_redirects_only_to_http(cdx_server: CdxServer) -> None:
    for location in ("file:///etc/passwd", "ftp://127.0.0.1/cdx"):
        cdx_server.answers = [(302, {"Location": location}, b"")]
        with pytest.raises(CdxError, match=r"redirected .* where it cannot be followed"):
            client(cdx_server, []).captures(SITE)
    cdx_server.answers = [(301, {"Location": "/elsewhere/cdx"}, b"")]
    assert len(client(cdx_server, []).captures(SITE)) == 2
    assert cdx_server.seen[-1][0] == "/elsewhere/cdx"


def test_a_cdx_api_must_be_http() -> None:
    with pytest.raises(ValueError, match="must be an http"):
        CdxClient("file:///srv/index.cdxj")


@pytest.mark.parametrize(
    ("text", "period"),
    [("1d", Period(1, "d")), ("30d", Period(30, "d")), (" 2W", Period(2, "w")),
     ("1m", Period(1, "m")), ("1y", Period(1, "y"))],
)  # fmt: skip
def test_period_parse(text: str, period: Period) -> None:
    assert Period.parse(text) == period


@pytest.mark.parametrize("text", ["", "d", "0d", "1", "1h", "-1d", "1.5m", "99999d", "１d"])
def test_period_parse_refuses_what_is_not_a_period(text: str) -> None:
    with pytest.raises(ValueError, match="1d, 2w, 1m, 30d, 1y"):
        Period.parse(text)


def test_periods_follow_the_calendar() -> None:
    start = datetime(2019, 1, 31, tzinfo=UTC)
    month = Period(1, "m")
    assert [month.after(start, k).date().isoformat() for k in range(4)] == [
        "2019-01-31",
        "2019-02-28",
        "2019-03-31",
        "2019-04-30",
    ]
    assert Period(1, "y").after(datetime(2020, 2, 29, tzinfo=UTC), 1).day == 28
    assert month.index(start, datetime(2019, 2, 27, tzinfo=UTC)) == 0
    assert month.index(start, datetime(2019, 2, 28, tzinfo=UTC)) == 1
    assert month.index(start, datetime(2019, 3, 30, tzinfo=UTC)) == 1
    assert month.index(start, datetime(2019, 3, 31, tzinfo=UTC)) == 2
    assert Period(1, "w").index(start, start + timedelta(days=13, hours=23)) == 1
    assert Period(2, "y").index(start, datetime(2022, 6, 1, tzinfo=UTC)) == 1


def _page(timestamp: str, status: int = 200, mime: str = "text/html") -> CdxRecord:
    return CdxRecord(timestamp, SITE, status, mime)


def test_capture_times_are_the_last_page_capture_of_each_period() -> None:
    records = [
        _page("20190103000000"),
        _page("20190110120000"),
        _page("20190111000000", status=404),  # not a page
        _page("20190112000000", mime="image/png"),  # not a page
        _page("20190115000000", mime="text/html; charset=utf-8"),
        _page("20190301000000"),
        _page("20181231235959"),  # before the start
        _page("20200101000000"),  # after the end
    ]
    start, end = "20190101000000", "20191231235959"
    assert capture_times(records, start, end, "1m") == ["20190115000000", "20190301000000"]
    assert capture_times(records, start, end, "1w") == [
        "20190103000000",
        "20190110120000",
        "20190115000000",
        "20190301000000",
    ]
    assert capture_times(records, start, end, "1y") == ["20190301000000"]
    assert capture_times(reversed(records), start, None, Period(1, "y")) == [
        "20190301000000",
        "20200101000000",
    ]
    assert capture_times([], start, end, "1d") == []

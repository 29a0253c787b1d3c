"""Archive endpoints, raw replay URLs and timestamps (exitscrape.archive.replay)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from exitscrape.archive.replay import (
    WAYBACK,
    WAYBACK_CDX,
    Archive,
    format_timestamp,
    parse_at,
    parse_memento_datetime,
    parse_timestamp,
    same_page,
    site_host,
)

PAGE = "https://www.exit-practices.eu/mentoring-programme1.html"


def test_wayback_alias_and_its_cdx_api() -> None:
    for spec in ("wayback", " Wayback ", WAYBACK, "https://web.archive.org/web"):
        assert Archive.parse(spec) == Archive(WAYBACK, WAYBACK_CDX)


def test_a_collection_url_and_its_cdx_api() -> None:
    archive = Archive.parse("http://127.0.0.1:8080/my-collection")
    assert archive.replay == "http://127.0.0.1:8080/my-collection/"
    assert archive.cdx == "http://127.0.0.1:8080/my-collection/cdx"
    other = Archive.parse("https://archive.example/wayback/", cdx="https://cdx.example/search")
    assert other.cdx == "https://cdx.example/search"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("archive.org", "must be an http(s) URL"),
        ("file:///srv/warcs/", "must be an http(s) URL"),
        ("ftp://archive.example/coll/", "must be an http(s) URL"),
        ("http://user:secret@archive.example/coll/", "must not hold credentials"),
        ("http://archive.example/coll/?q=1", "no query or fragment"),
        ("http:///coll/", "must be an http(s) URL"),
    ],
)
def test_bad_archives_are_refused_clearly(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Archive.parse(spec)
    with pytest.raises(ValueError, match=re.escape("the CDX API must be an http(s) URL")):
        Archive.parse("wayback", cdx="file:///etc/passwd")


def test_raw_url_and_back() -> None:
    archive = Archive.parse("wayback")
    raw = archive.raw_url(PAGE + "#top", "20190601120000")
    assert raw == f"https://web.archive.org/web/20190601120000id_/{PAGE}"
    assert archive.split(raw) == (PAGE, "20190601120000")
    with pytest.raises(ValueError, match="14-digit"):
        archive.raw_url(PAGE, "2019")
    with pytest.raises(ValueError, match=re.escape("a site URL must be an http(s) URL")):
        archive.raw_url("file:///etc/passwd", "20190601120000")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Other modes, partial timestamps, a query, a collapsed "//", a bare host: all replays.
        (f"https://web.archive.org/web/2019/{PAGE}?a=1", (f"{PAGE}?a=1", "2019")),
        (f"https://web.archive.org/web/20190601120000mp_/{PAGE}", (PAGE, "20190601120000")),
        (
            "HTTPS://WEB.ARCHIVE.ORG/web/20190601120000id_/https:/www.exit-practices.eu/",
            ("https://www.exit-practices.eu/", "20190601120000"),
        ),
        (
            "https://web.archive.org/web/20190601120000id_/exit-practices.eu/a.html",
            ("http://exit-practices.eu/a.html", "20190601120000"),
        ),
        # Not replays of a page: the site itself, another host or port, another collection,
        # the archive's other pages, a replay of something that is not a web page.
        (PAGE, None),
        (f"https://web.archive.org.evil.example/web/20190601120000id_/{PAGE}", None),
        (f"https://web.archive.org:8443/web/20190601120000id_/{PAGE}", None),
        (f"http://web.archive.org/web/20190601120000id_/{PAGE}", None),
        (f"https://web.archive.org/webx/20190601120000id_/{PAGE}", None),
        ("https://web.archive.org/cdx/search/cdx?url=x", None),
        ("https://web.archive.org/web/20190601120000id_/file:///etc/passwd", None),
        ("https://web.archive.org/web/20190601120000id_/javascript://x", None),
        ("https://web.archive.org/web/201906011200001id_/" + PAGE, None),  # 15 digits
    ],
)
def test_split_tells_replays_from_other_urls(url: str, expected: tuple[str, str] | None) -> None:
    assert Archive.parse("wayback").split(url) == expected


def test_between_captures_is_the_same_page_at_another_time() -> None:
    archive = Archive.parse("http://127.0.0.1:8080/coll/")
    later = "http://127.0.0.1:8080/coll/20210301120000id_/https://www.exit-practices.eu/a.html"
    assert archive.between_captures("https://www.exit-practices.eu/a.html", later)
    assert archive.between_captures("http://exit-practices.eu/a.html", later)
    assert not archive.between_captures("https://www.exit-practices.eu/b.html", later)
    # A site redirect: to the site, or to another page's capture.
    assert not archive.between_captures(
        "https://www.exit-practices.eu/a.html", "https://www.exit-practices.eu/a.html"
    )
    assert not archive.between_captures("https://www.exit-practices.eu/a.html?x=1", later)


def test_site_host_and_same_page() -> None:
    assert site_host("https://www.exit-practices.eu/a") == "exit-practices.eu"
    assert site_host("http://EXIT-practices.eu:80/a") == "exit-practices.eu"
    assert site_host("http://127.0.0.1:8123/") == "127.0.0.1:8123"
    for bad in ("file:///etc/passwd", "mailto:a@b.c", "http://host:99999/", "/relative"):
        assert site_host(bad) is None
    assert same_page("https://www.exit-practices.eu/", "http://exit-practices.eu")
    assert not same_page("https://www.exit-practices.eu/a", "https://www.exit-practices.eu/b")
    assert not same_page("file:///a", "file:///a")


@pytest.mark.parametrize(
    ("text", "end", "start"),
    [
        ("2019", "20191231235959", "20190101000000"),
        ("2019-02", "20190228235959", "20190201000000"),
        ("2020-02", "20200229235959", "20200201000000"),
        ("201902", "20190228235959", "20190201000000"),
        ("2019-06-01", "20190601235959", "20190601000000"),
        ("20190601", "20190601235959", "20190601000000"),
        ("2019060112", "20190601125959", "20190601120000"),
        ("20190601120000", "20190601120000", "20190601120000"),
        ("2019-06-01T12:00:00Z", "20190601120000", "20190601120000"),
        ("2019-06-01T14:00:00+02:00", "20190601120000", "20190601120000"),
        ("2019-06-01T12:00", "20190601120000", "20190601120000"),  # no offset: UTC
        (" 2019-06-01 12:00:00 ", "20190601120000", "20190601120000"),
    ],
)
def test_parse_at(text: str, end: str, start: str) -> None:
    assert parse_at(text) == end
    assert parse_at(text, end=False) == start


@pytest.mark.parametrize(
    "text",
    ["", "19", "20191", "2019-13", "201913", "2019-02-30", "20190230", "2019-6-1", "yesterday",
     "１９９９", "20190601120000123", "2019-06-01T25:00"],
)  # fmt: skip
def test_parse_at_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError, match=r"YYYY, YYYY-MM, YYYY-MM-DD"):
        parse_at(text)


def test_timestamps_round_trip_in_utc() -> None:
    when = datetime(2019, 6, 1, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(when) == "20190601120000"
    assert format_timestamp(datetime(2019, 6, 1, 12)) == "20190601120000"  # naive: UTC
    assert parse_timestamp("20190601120000") == datetime(2019, 6, 1, 12, tzinfo=UTC)
    for bad in ("2019", "20191301000000", "2019060112000x", "٢٠١٩٠٦٠١١٢٠٠٠٠"):
        with pytest.raises(ValueError):
            parse_timestamp(bad)


def test_parse_memento_datetime() -> None:
    expected = datetime(2019, 6, 1, 12, tzinfo=UTC)
    assert parse_memento_datetime("Sat, 01 Jun 2019 12:00:00 GMT") == expected
    assert parse_memento_datetime(b"Sat, 01 Jun 2019 12:00:00 GMT") == expected
    for bad in ("", "yesterday", "2019-06-01T12:00:00Z", "Sat, 01 Jun 2019 12:00:00 +0200"):
        with pytest.raises(ValueError, match="not a Memento-Datetime"):
            parse_memento_datetime(bad)

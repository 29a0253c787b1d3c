"""``exitscrape crawl --archive``: the site read from a real archive (pywb), over loopback HTTP.

The site's own server never runs: every request must go to the archive. A front
(:class:`ArchiveFront`) between the crawl and pywb logs what the crawl asks and answers some
requests as a busy or broken archive would.
"""

from __future__ import annotations

from email.utils import format_datetime
from pathlib import Path

import pandas as pd
import pytest

import exitscrape
from exitscrape.archive.replay import format_timestamp
from exitscrape.cli import main
from exitscrape.dataset.store import DatasetStore
from exitscrape.settings import EXITSCRAPE_ARCHIVE_USER_AGENT
from exitscrape.snapshot.server import SiteServer
from tests.archive.conftest import FIRST, HII_BEFORE, REMOVED, SECOND
from tests.archive.pywb_server import COLLECTION, SITE, ArchiveFront, Pywb
from tests.conftest import EXPECTED, FAST, report, run_cli
from tests.spiders.test_crawl import COMPARED, stable

FIRST_TS, SECOND_TS = format_timestamp(FIRST), format_timestamp(SECOND)
HII_NAME = "Healthy Identity Intervention (HII)"


def crawl_archive(archive: str, data: Path, *extra: str) -> tuple[int, str, str]:
    result = run_cli("crawl", "--archive", archive, "--data-dir", str(data), *FAST, *extra)
    return result.returncode, result.stdout, result.stderr


def expected_programmes(removed: tuple[str, ...] = (), organisation: str | None = None) -> list:
    """The snapshot's programmes (tests/data/snapshot_expected.json), as an archive holds them."""
    programmes = [dict(p) for p in EXPECTED if p["name"] not in removed]
    for programme in programmes:
        if programme["name"] == HII_NAME and organisation:
            programme["organisation"] = organisation
    return programmes


def assert_programmes(data: Path, expected: list) -> None:
    """Every programme with every field and category, as a live crawl of the snapshot gets."""
    rows = {row["name"]: row for row in stable(exitscrape.load(data_dir=data))}
    assert sorted(rows) == [p["name"] for p in expected]
    for programme in expected:
        row = rows[programme["name"]]
        for key in COMPARED:
            assert row[key] == programme[key], (programme["name"], key)
        for key in ("settings", "ideologies", "regions"):
            assert sorted(row[key]) == programme[key], (programme["name"], key)
        assert sorted(row["source_urls"]) == programme["paths"]


def test_the_site_as_archived_then_every_programme_and_only_the_archive_asked(
    front: ArchiveFront, tmp_path: Path
) -> None:
    status, stdout, stderr = crawl_archive(front.archive, tmp_path, "--at", "2019")
    assert status == 0, stderr
    assert f"archive: {front.archive} as of 2019-12-31 23:59:59 UTC" in stdout
    assert "pages: 36, programmes: 7, failed pages: 0" in stdout
    assert_programmes(tmp_path, expected_programmes(organisation=HII_BEFORE))

    pages = exitscrape.load("pages", data_dir=tmp_path)
    assert pages["url"].str.startswith(SITE).all() and pages["error"].isna().all()
    assert (pages["captured_at"] == FIRST).all()
    assert (pages["archive_url"] == front.archive + FIRST_TS + "id_/" + pages["final_url"]).all()
    # Every request went to the archive, for a raw capture of a site URL (robots.txt too), as
    # exitscrape's archive reader; nothing else was asked (the site's server is not running).
    asked = [path for _, _, path, _ in front.log]
    assert all(p.startswith(f"/{COLLECTION}/20191231235959id_/{SITE}") for p in asked)
    assert f"/{COLLECTION}/20191231235959id_/{SITE}robots.txt" in asked
    assert {agent for *_, agent in front.log} == {EXITSCRAPE_ARCHIVE_USER_AGENT}
    run = report(tmp_path)
    assert run["pages"]["requests"] == len(asked) == len(set(asked))

    manifest = DatasetStore(tmp_path).manifest()
    assert manifest["as_of"] == "2019-12-31T23:59:59+00:00"
    assert manifest["source"] == {
        "archive": front.archive,
        "at": "2019-12-31T23:59:59+00:00",
        "captures": {"first": FIRST.isoformat(), "last": FIRST.isoformat()},
    }
    assert run["source"] == manifest["source"] and run["as_of"] == manifest["as_of"]
    assert not (tmp_path / "cache").exists()  # no HTTP cache, no quick-check plan


def test_the_wayback_machines_redirects_to_exact_captures_are_followed(
    pywb_exact: Pywb, tmp_path: Path
) -> None:
    """pywb_exact redirects every request to the nearest capture's exact time, as the Wayback
    Machine does: the same site, read as the plain collection reads it."""
    status, stdout, stderr = crawl_archive(pywb_exact.url, tmp_path, "--at", "2020-03")
    assert status == 0, stderr
    assert "pages: 36, programmes: 7, failed pages: 0" in stdout
    assert_programmes(tmp_path, expected_programmes(organisation=HII_BEFORE))
    pages = exitscrape.load("pages", data_dir=tmp_path)
    assert (pages["archive_url"] == pywb_exact.url + FIRST_TS + "id_/" + pages["final_url"]).all()


def test_a_busy_or_broken_archive_fails_pages_not_the_run(
    front: ArchiveFront, tmp_path: Path
) -> None:
    def page(name: str) -> str:
        return f"{SECOND_TS}id_/{SITE}{name}"

    captured = {"Memento-Datetime": format_datetime(SECOND, usegmt=True)}
    with SiteServer(tmp_path, host="127.0.0.2") as elsewhere:
        front.faults = {
            # Throttled: asked again after Retry-After, then read.
            page("contact.html"): [(429, {"Retry-After": "1"}, b"slow down")],
            # Asked to wait longer than exitscrape ever waits: the page fails at once.
            page("reintegration--rehabilitation.html"): [(429, {"Retry-After": "86400"}, b"")],
            # Busy every time: RETRY_TIMES=2 more tries, then the page fails.
            page("security.html"): [(503, {}, b"busy")] * 3,
            # A captured 503 is the site's answer then: never asked again.
            page("resources.html"): [(503, captured, b"the site was down")],
            page("what-works.html"): [(200, {"Memento-Datetime": "yesterday"}, b"<p>x</p>")],
            page("evaluation-framework.html"): [(200, {"Content-Type": "text/html"}, b"<p>ad</p>")],
            page("peer-review-evaluation.html"): [(302, {"Location": elsewhere.url}, b"")],
            # A capture redirecting to its own page (http:// and https://www. are one page to
            # the archive): replayed, it would lead back to itself forever.
            page("radicalisation--terrorism.html"): [
                (
                    301,
                    {
                        **captured,
                        "Location": "http://exit-practices.eu/radicalisation--terrorism.html",
                    },
                    b"",
                )
            ],
            # The archive moving between captures of a page without end: followed 5 times.
            f"id_/{SITE}disengagement--deradicalisation.html": [
                (
                    307,
                    {"Location": front.archive + page("disengagement--deradicalisation.html")},
                    b"",
                )
            ]
            * 6,
            # A captured redirect the archive rewrote into itself: the site's redirect.
            page("methodological-conceptualisation.html"): [
                (301, {**captured, "Location": front.archive + page("in-europe.html")}, b"")
            ],
        }
        status, stdout, stderr = crawl_archive(
            front.archive,
            tmp_path / "data",
            "--at",
            SECOND_TS,
            *("-s", "RETRY_TIMES=2", "-s", "EXITSCRAPE_ARCHIVE_BACKOFF=0"),
            *("-s", "EXITSCRAPE_GATE_MAX_FAILED_SHARE=0.5"),  # this archive fails many pages
        )
        assert elsewhere.requests == []  # the archive's redirect off itself: not followed
    assert status == 0, stderr
    assert "programmes: 6, failed pages: 9" in stdout
    pages = exitscrape.load("pages", data_dir=tmp_path / "data").set_index("url")
    errors = pages["error"].dropna().to_dict()
    assert errors == {
        SITE + REMOVED: "HTTP 404",
        SITE + "security.html": "archive: HTTP 503, not a capture of the page",
        SITE + "disengagement--deradicalisation.html": "archive: over 5 redirects between "
        "captures of the page",
        SITE + "reintegration--rehabilitation.html": "archive: HTTP 429, asked to wait 86400 s "
        "(over 300)",
        SITE + "resources.html": "HTTP 503",
        SITE + "what-works.html": "archive: not a Memento-Datetime (e.g. 'Sat, 01 Jun 2019 "
        "12:00:00 GMT'): 'yesterday'",
        SITE + "evaluation-framework.html": "archive: HTTP 200, not a capture of the page",
        SITE + "peer-review-evaluation.html": f"archive: HTTP 302 to {elsewhere.url}, not a "
        "capture of the page",
        SITE + "radicalisation--terrorism.html": f"archive: the capture of {front.archive}"
        f"{page('radicalisation--terrorism.html')} redirects to its own page "
        "(http://exit-practices.eu/radicalisation--terrorism.html)",
    }
    assert pages.loc[SITE + "contact.html", "status"] == 200
    assert pages.loc[SITE + "resources.html", "captured_at"] == SECOND
    assert pd.isna(pages.loc[SITE + "security.html", "captured_at"])
    moved = pages.loc[SITE + "methodological-conceptualisation.html"]
    assert (moved["final_url"], moved["captured_at"]) == (SITE + "in-europe.html", SECOND)

    def times(name: str) -> list[float]:
        return [when for when, _, path, _ in front.log if path.endswith(page(name))]

    first, second = times("contact.html")
    assert second - first >= 1.0  # Retry-After: 1 honoured
    assert len(times("security.html")) == 3
    assert len(times("disengagement--deradicalisation.html")) == 6
    assert len(times("resources.html")) == len(times(REMOVED)) == 1
    assert len(times("in-europe.html")) == 1  # reached once, by the menu


def test_an_unreachable_archive_fails_the_run_and_says_so(tmp_path: Path) -> None:
    archive = "http://127.0.0.2:9/coll/"
    status, _, stderr = crawl_archive(archive, tmp_path, "--at", "2019", "-s", "RETRY_TIMES=0")
    assert status == 1
    assert f"archive: {archive} as of 2019-12-31 23:59:59 UTC (no capture read)" in stderr
    # robots.txt is the first thing asked for: unreachable, it forbids the site (RFC 9309).
    assert f"the start page {SITE} failed: robots.txt unreachable (DownloadConnectionRefused" in (
        stderr
    )
    assert DatasetStore(tmp_path).versions() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "2019"], "--at needs --archive"),
        (["--archive", "file:///srv/warcs/"], "--archive: the archive must be an http(s) URL"),
        (["--archive", "wayback", "--at", "last year"], "--at: not a date: 'last year'"),
        (["--archive", "wayback", "--snapshot"], "--snapshot excludes --start-url and --archive"),
        (["--archive", "wayback", "-s", "DOWNLOAD_DELAY"], "-s expects NAME=VALUE"),
    ],
)
def test_bad_archive_usage_is_refused_clearly(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["crawl", "--data-dir", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # refused before anything ran

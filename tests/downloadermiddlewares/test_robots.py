"""robots.txt as RFC 9309 reads it: Crawl-delay honoured, a 5xx is a complete disallow, a 4xx
allows everything, an oversize file is read in part rather than ignored. Real crawls over HTTP
on loopback; delays are checked as lower bounds on the gaps the server saw, never upper ones."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from exitscrape.dataset.store import DatasetStore
from exitscrape.downloadermiddlewares.robots import MAX_BYTES, first_part
from tests.conftest import crawl, report
from tests.downloadermiddlewares.conftest import ScriptedServer
from tests.weebly import small_site

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
CONTACT = "https://github.com/exitscrape/exitscrape"


def robots(server: ScriptedServer, body: bytes, status: int = 200, times: int = 1) -> None:
    server.answers["/robots.txt"] = [(status, {"Content-Type": "text/plain"}, body)] * times


@pytest.mark.parametrize(
    "throttle",
    [
        [],  # delays and AutoThrottle off: the Crawl-delay alone spaces requests
        ["-s", "AUTOTHROTTLE_ENABLED=True"],  # AutoThrottle must not go below it either
    ],
    ids=["fixed", "autothrottle"],
)
def test_crawl_delay_spaces_the_requests(tmp_path: Path, throttle: list[str]) -> None:
    pages = {f"/page-{n}.html": "<p>a page</p>" for n in range(4)}
    with ScriptedServer(small_site(tmp_path / "site", list(pages), pages)) as server:
        robots(server, b"User-agent: *\nCrawl-delay: 1\n")
        result = crawl(server.url, tmp_path / "data", *throttle)
    assert result.returncode == 0, result.stderr
    assert len(server.seen) == 7  # robots.txt, the home page, the programme, 4 pages
    gaps = [later - earlier for (earlier, *_), (later, *_) in pairwise(server.seen)]
    # 1 s asked for. Without it the pages came at once; AutoThrottle alone halves its delay on
    # every quick answer (0.5 s, 0.25 s, ...).
    assert min(gaps) >= 0.75, gaps
    assert all(CONTACT in agent for _, _, agent in server.seen)  # robots.txt's request too
    if throttle:  # -s DOWNLOAD_DELAY=0 (tests.conftest.FAST) is where AutoThrottle starts
        assert report(tmp_path / "data")["settings"]["AUTOTHROTTLE_START_DELAY"] == 0.0


def test_a_huge_crawl_delay_is_capped_with_a_warning(scripted: ScriptedServer, tmp_path) -> None:
    robots(scripted, b"User-agent: *\nCrawl-delay: 3600\n")
    result = crawl(
        scripted.url,
        tmp_path / "data",
        *("-s", "EXITSCRAPE_MAX_CRAWL_DELAY=1", "-s", "LOG_LEVEL=WARNING"),
    )  # an hour between requests would outlast the test's timeout
    assert result.returncode == 0, result.stderr
    assert "Crawl-delay of 3600 s: waiting 1 s between requests" in result.stderr


def test_robots_txt_answering_5xx_forbids_the_whole_site(scripted, tmp_path) -> None:
    robots(scripted, DISALLOW_ALL.replace(b"Disallow", b"Allow"), status=500, times=10)
    result = crawl(scripted.url, tmp_path / "data")
    assert result.returncode == 1
    assert "robots.txt unreachable (HTTP 500)" in result.stderr
    assert "RFC 9309" in result.stderr and "Traceback" not in result.stderr
    assert {path for _, path, _ in scripted.seen} == {"/robots.txt"}  # nothing else asked for
    assert DatasetStore(tmp_path / "data").latest() is None


def test_robots_txt_answering_4xx_allows_everything(scripted, tmp_path) -> None:
    robots(scripted, DISALLOW_ALL, status=404)  # an error page is not rules (RFC 9309)
    result = crawl(scripted.url, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "published version" in result.stdout


@pytest.mark.parametrize(
    ("size", "settings"),
    [
        (600 * 1024, ["-s", "DOWNLOAD_MAXSIZE=300000"]),  # larger than the size limit
        (11 * 1024 * 1024, []),  # larger than the default 10 MiB
    ],
    ids=["600KiB", "11MiB"],
)
def test_an_oversize_robots_txt_is_read_not_ignored(scripted, tmp_path, size, settings) -> None:
    robots(scripted, DISALLOW_ALL + b"# padding\n" * (size // 10))
    result = crawl(scripted.url, tmp_path / "data", *settings)
    assert result.returncode == 1
    assert "disallowed by robots.txt" in result.stderr
    assert {path for _, path, _ in scripted.seen} == {"/robots.txt"}


def test_first_part_keeps_whole_lines_up_to_500_kib() -> None:
    short = DISALLOW_ALL * 3
    assert first_part(short) == short
    long = b"Disallow: /private/\n" * (MAX_BYTES // 10)
    part = first_part(long)
    assert len(part) <= MAX_BYTES and part.endswith(b"\n")
    assert part == long[: len(part)] and len(part) > MAX_BYTES - 20

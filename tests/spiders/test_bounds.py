"""Bounds: a crawler trap ends in a bounded number of requests, with a named finish reason, a
failed gate (exit 3), nothing published, and the bound named in the summary and run report.
Real crawls over HTTP on loopback of a site whose /page/N.html links /page/N+1.html forever."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import exitscrape.settings as project
from exitscrape import settings
from exitscrape.dataset.quality import BOUNDS
from exitscrape.dataset.store import DatasetStore
from exitscrape.extraction.links import more_links_than
from exitscrape.spidermiddlewares.depth import FINISH_REASON as DEPTH_LIMIT
from exitscrape.spiders.exit_practices import TOO_MANY_LINKS
from tests.conftest import FAST, REPO, FaultHandler, FaultServer, crawl, report
from tests.weebly import small_site

HUGE_LINKS = 300_000


class TrapHandler(FaultHandler):
    """``/page/N.html`` links ``/page/N+1.html``, for every N; ``/many-K.html`` has K links."""

    def do_GET(self) -> None:
        if match := re.fullmatch(r"/page/(\d+)\.html", self.path):
            links = f'<a href="/page/{int(match[1]) + 1}.html">next</a>'
        elif match := re.fullmatch(r"/many-(\d+)\.html", self.path):
            links = "".join(f"<a href=/p/{i}>{i}</a>" for i in range(int(match[1])))
        else:
            super().do_GET()
            return
        body = f'<html><body><div id="wsite-content">{links}</div></body></html>'.encode()
        self.send_body(200, body, {"Content-Type": "text/html"})
        self.server.count(self, 200)


def trap_server(root: Path, *links: str) -> FaultServer:
    """A server of :func:`tests.weebly.small_site` whose home page also has *links*."""
    server = FaultServer(small_site(root, links))
    server.RequestHandlerClass = TrapHandler
    return server


@pytest.fixture(scope="module")
def trap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultServer]:
    """The endless generator, linked from the home page."""
    with trap_server(tmp_path_factory.mktemp("trap"), "/page/1.html") as server:
        yield server


def crawl_trap(server: FaultServer, data: Path, *settings: str) -> subprocess.CompletedProcess[str]:
    server.requests.clear()
    return crawl(server.url, data, *settings)


def assert_stopped(result: subprocess.CompletedProcess[str], data: Path, reason: str) -> None:
    """Exit 3, nothing published, the bound named in the summary and the run report."""
    bound = BOUNDS[reason]
    assert result.returncode == 3, result.stderr
    assert f"the crawl stopped at its {bound.what} ({bound.setting} = " in result.stderr
    assert f"raise {bound.setting}" in result.stderr and "--force" not in result.stderr
    assert DatasetStore(data).latest() is None and DatasetStore(data).versions() == []
    stopped = report(data)
    assert stopped["outcome"] == "gate_failed" and stopped["finish_reason"] == reason
    (gate,) = [gate for gate in stopped["gates"] if gate["gate"] == "finish_reason"]
    assert not gate["passed"] and gate["figures"]["setting"] == bound.setting


def test_an_endless_link_generator_stops_at_the_default_depth_limit(trap, tmp_path) -> None:
    data = tmp_path / "data"
    result = crawl_trap(trap, data)
    assert_stopped(result, data, DEPTH_LIMIT)
    pages = [path for _, path, _ in trap.requests if path.startswith("/page/")]
    limit = settings.DEPTH_LIMIT
    assert len(pages) == limit  # /page/1.html is 1 link from the start page, /page/N.html N
    # The request dropped for depth is recorded, not silently lost.
    assert (
        f"/page/{limit + 1}.html: deeper than DEPTH_LIMIT ({limit} links from the start page)"
        in (result.stderr)
    )


@pytest.mark.parametrize(
    ("reason", "settings"),
    [
        ("closespider_pagecount", ["-s", "CLOSESPIDER_PAGECOUNT=30"]),
        ("closespider_timeout", ["-s", "CLOSESPIDER_TIMEOUT=1"]),
    ],
)
def test_the_page_budget_and_the_wall_time_limit_stop_a_trap(
    trap, tmp_path, reason: str, settings: list[str]
) -> None:
    data = tmp_path / "data"
    result = crawl_trap(trap, data, "-s", "DEPTH_LIMIT=0", *settings)  # endless without them
    assert_stopped(result, data, reason)
    if reason == "closespider_pagecount":
        assert len(trap.requests) <= 30 + 8  # the budget and the requests under way


def test_a_page_with_too_many_links_stops_the_crawl(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with trap_server(tmp_path / "site", "/many-1500.html") as server:
        result = crawl(server.url, data)
    assert_stopped(result, data, TOO_MANY_LINKS)
    assert "many-1500.html: more than 1000 links (EXITSCRAPE_MAX_LINKS_PER_PAGE)" in result.stderr
    assert not any(path.startswith("/p/") for _, path, _ in server.requests)  # none followed


def test_a_page_of_300000_links_keeps_memory_low(tmp_path: Path) -> None:
    """Peak RSS of the crawl process, measured by a parent that runs nothing else."""
    measure = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
    )
    with trap_server(tmp_path / "site", f"/many-{HUGE_LINKS}.html") as server:
        command = [
            sys.executable, "-m", "exitscrape", "crawl", "--start-url", server.url,
            "--data-dir", str(tmp_path / "data"), *FAST,
        ]  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-c", measure, *command], capture_output=True, text=True, cwd=REPO
        )
    peak_mib = int(done.stdout)
    assert report(tmp_path / "data")["finish_reason"] == TOO_MANY_LINKS
    assert peak_mib < 300, peak_mib  # 1.1 GB without the cap


def test_every_bound_is_named_and_on_by_default() -> None:
    assert {DEPTH_LIMIT, TOO_MANY_LINKS} <= set(BOUNDS)
    for bound in BOUNDS.values():
        assert getattr(project, bound.setting) > 0


def test_links_are_counted_as_html_parsers_read_them() -> None:
    page = "<A HREF=/1>1</A> <a\nhref=/2>2</a> <a/href=/3>3</a> <abbr>x</abbr> <area> <aside>"
    assert more_links_than(page, 2) and not more_links_than(page, 3)

"""The quick check's requests sent straight (exitscrape/incremental/revalidation.py): only a 304
or a 200 is taken from them; anything odd ends the pass and leaves the pages to Scrapy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from scrapy.settings import Settings

from exitscrape import settings as project_settings
from exitscrape.incremental.quickcheck import PLAN_FILE
from exitscrape.incremental.revalidation import (
    HEAD_LIMIT,
    MODIFIED,
    NOT_MODIFIED,
    Conditional,
    Limits,
    _Pacer,
    read_head,
    request_bytes,
    revalidate,
    unavailable,
)
from tests.conftest import FaultServer, copy_data_dir, copy_site, crawl, report

LIMITS = Limits(connections=2, delay=0.0, timeout=5.0, headers=(("User-Agent", "test"),))
NOT_MODIFIED_HEAD = b'HTTP/1.1 304 Not Modified\r\nETag: "a"\r\n\r\n'

Reply = Callable[[bytes], bytes | None]  # a request's head -> the answer (None: say nothing)


class Site:
    """An asyncio server on loopback answering each request with ``reply(head)``."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[bytes] = []
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.closed = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                answer = self.reply(head)
                if answer is None:  # silent until the client hangs up
                    await reader.read()
                    break
                else:
                    writer.write(answer)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            self.closed += 1
            writer.close()


def run_site(reply: Reply, test: Callable[[Site, str], Awaitable[None]]) -> Site:
    site = Site(reply)

    async def main() -> None:
        server = await asyncio.start_server(site.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            await test(site, f"http://127.0.0.1:{port}/")

    asyncio.run(main())
    return site


def pages(base: str, n: int) -> list[Conditional]:
    return [Conditional(f"{base}p{i}.html", "GET", (("If-None-Match", '"a"'),)) for i in range(n)]


def collect(answers: dict[str, int], stop_after: int | None = None) -> Callable[[str, int], bool]:
    def answered(url: str, status: int) -> bool:
        answers[url] = status
        return stop_after is not None and len(answers) >= stop_after

    return answered


def test_requests_are_sent_as_scrapy_would_and_nothing_unsafe_is() -> None:
    request = Conditional("http://x:81/a%20b.html?q=1#top", "GET", (("If-None-Match", '"e"'),))
    sent = request_bytes(request, "x:81", (("User-Agent", "ua"),))
    assert sent == (
        b'GET /a%20b.html?q=1 HTTP/1.1\r\nHost: x:81\r\nUser-Agent: ua\r\nIf-None-Match: "e"\r\n\r\n'
    )
    for unsafe in (
        Conditional("http://x/a.html", "GET", (("If-None-Match", '"e"\r\nX-Injected: 1'),)),
        Conditional("http://x/a b.html", "GET", ()),
        Conditional("http://x/\u00e9.html", "GET", ()),
        Conditional("http://x/a.html", "DELETE", ()),
    ):
        with pytest.raises(ValueError):
            request_bytes(unsafe, "x", ())


def test_only_an_http_1_head_is_read() -> None:
    assert read_head(NOT_MODIFIED_HEAD) == (304, True)
    assert read_head(b"HTTP/1.1 200 OK\r\nConnection: Close\r\n\r\n") == (200, False)
    assert read_head(b"HTTP/1.0 304 Not Modified\r\n\r\n") == (304, False)
    assert read_head(b"HTTP/1.0 304 x\r\nConnection: keep-alive\r\n\r\n") == (304, True)
    for bad in (b"HTTP/2 304\r\n\r\n", b"<html>\r\n\r\n", b"HTTP/1.1 304 x\r\nno colon\r\n\r\n"):
        with pytest.raises(ValueError):
            read_head(bad)


def test_requests_are_paced_across_connections_as_a_download_slot() -> None:
    pacer = _Pacer(2.0)
    assert [pacer.wait_for(10.0) for _ in range(3)] == [0.0, 2.0, 4.0]
    assert pacer.wait_for(20.0) == 0.0  # idle long enough: no wait
    assert _Pacer(0.0).wait_for(5.0) == 0.0


def test_the_crawl_s_politeness_and_headers_are_kept() -> None:
    settings = Settings()
    settings.setmodule(project_settings)
    polite = Limits.from_settings(settings, crawl_delay=None)
    assert (polite.connections, polite.delay) == (1, 1.0)  # the project's defaults
    assert dict(polite.headers)["User-Agent"] == settings["USER_AGENT"]
    assert "gzip" in dict(polite.headers)["Accept-Encoding"]
    settings.setdict(
        {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16},
        priority="cmdline",
    )
    assert Limits.from_settings(settings, crawl_delay=None).delay == 0.0
    assert Limits.from_settings(settings, crawl_delay=3.0).delay == 3.0  # robots.txt's
    assert Limits.from_settings(settings, crawl_delay=None).connections == 8  # per domain
    slot = {"delay": 2.5, "concurrency": 2}  # DOWNLOAD_SLOTS for the site
    slotted = Limits.from_settings(settings, None, slot)
    assert (slotted.connections, slotted.delay) == (2, 2.5)
    settings.set("DEFAULT_REQUEST_HEADERS", {b"Accept": b"text/html"}, priority="cmdline")
    assert dict(Limits.from_settings(settings, None).headers)["Accept"] == "text/html"


def test_not_used_where_it_could_not_stand_for_scrapy(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    settings.setmodule(project_settings)
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.setattr(
        "exitscrape.incremental.revalidation.is_asyncio_reactor_installed", lambda: True
    )
    assert unavailable(settings, "http://x/") is None
    assert unavailable(settings, "ftp://x/") is not None
    monkeypatch.setenv("http_proxy", "http://proxy:3128")
    assert unavailable(settings, "http://x/") == "a proxy is set"
    monkeypatch.delenv("http_proxy")
    handlers = Settings({"DOWNLOAD_HANDLERS": {"http": "my.Handler"}})
    handlers.setmodule(project_settings, priority="default")
    assert "download handler" in (unavailable(handlers, "http://x/") or "")
    settings.set("EXITSCRAPE_DIRECT_CHECK", False)
    assert unavailable(settings, "http://x/") is not None
    monkeypatch.setattr(
        "exitscrape.incremental.revalidation.is_asyncio_reactor_installed", lambda: False
    )
    settings.set("EXITSCRAPE_DIRECT_CHECK", True)
    assert unavailable(settings, "http://x/") == "the reactor is not asyncio's"


def test_not_modified_pages_are_confirmed_over_a_few_kept_connections() -> None:
    answers: dict[str, int] = {}
    stopped: list[str | None] = []

    async def test(site: Site, base: str) -> None:
        stopped.append(await revalidate(pages(base, 50), LIMITS, collect(answers)))

    site = run_site(lambda head: NOT_MODIFIED_HEAD, test)
    assert stopped == [None]
    assert len(answers) == 50 and set(answers.values()) == {NOT_MODIFIED}
    assert site.connections == 2 and site.most_open == 2  # kept open, never more than allowed
    assert all(b'If-None-Match: "a"' in head for head in site.requests)


def test_a_changed_page_is_passed_on_and_its_unread_body_costs_its_connection() -> None:
    answers: dict[str, int] = {}

    def reply(head: bytes) -> bytes:
        if b"/p3.html" in head:
            return b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n<p>new</p>"[:-1]
        return NOT_MODIFIED_HEAD

    async def test(site: Site, base: str) -> None:
        assert await revalidate(pages(base, 10), LIMITS, collect(answers)) is None

    site = run_site(reply, test)
    assert answers[next(u for u in answers if u.endswith("/p3.html"))] == MODIFIED
    assert len(answers) == 10
    assert site.connections == 3  # the body was never read: that connection was dropped


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 60\r\n\r\n",
        b"HTTP/1.1 429 Too Many Requests\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nX-Junk: " + b"x" * HEAD_LIMIT + b"\r\n\r\n",
        b"<html>not http at all</html>\r\n\r\n",
        b"HTTP/1.1 304 Not Modified\r\nbroken header line\r\n\r\n",
    ],
    ids=["503", "429", "huge-head", "not-http", "malformed"],
)
def test_an_answer_out_of_the_ordinary_ends_the_pass(answer: bytes) -> None:
    answers: dict[str, int] = {}
    stopped: list[str | None] = []
    one = Limits(connections=1, delay=0.0, timeout=5.0, headers=())

    def reply(head: bytes) -> bytes:
        return answer if b"/p2.html" in head else NOT_MODIFIED_HEAD

    async def test(site: Site, base: str) -> None:
        stopped.append(await revalidate(pages(base, 10), one, collect(answers)))

    site = run_site(reply, test)
    assert len(answers) == 2 and set(answers.values()) == {NOT_MODIFIED}  # p0, p1 only
    assert stopped[0] is not None and "p2.html" in stopped[0]
    assert len(site.requests) == 3  # nothing sent after it


def test_a_site_that_stops_answering_or_refuses_ends_the_pass() -> None:
    answers: dict[str, int] = {}
    stopped: list[str | None] = []
    quick = Limits(connections=1, delay=0.0, timeout=0.5, headers=())

    async def test(site: Site, base: str) -> None:
        stopped.append(await revalidate(pages(base, 5), quick, collect(answers)))

    run_site(lambda head: None if b"/p1.html" in head else NOT_MODIFIED_HEAD, test)
    assert len(answers) == 1 and stopped[0] is not None and "p1.html" in stopped[0]

    async def refused() -> str | None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()  # nothing listens there now
        return await revalidate(pages(f"http://127.0.0.1:{port}/", 3), quick, collect(answers))

    assert asyncio.run(refused()) is not None


def test_cancelling_closes_every_connection() -> None:
    async def test(site: Site, base: str) -> None:
        task = asyncio.ensure_future(revalidate(pages(base, 4), LIMITS, collect({})))
        while len(site.requests) < 2:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        while site.open:
            await asyncio.sleep(0.01)

    site = run_site(lambda head: None, test)  # the site never answers
    assert site.closed == site.connections == 2


def test_the_crawl_stopping_ends_the_pass() -> None:
    answers: dict[str, int] = {}

    async def test(site: Site, base: str) -> None:
        one = Limits(connections=1, delay=0.0, timeout=5.0, headers=())
        assert await revalidate(pages(base, 10), one, collect(answers, stop_after=3))

    site = run_site(lambda head: NOT_MODIFIED_HEAD, test)
    assert len(answers) == 3 and len(site.requests) == 3


def test_pages_elsewhere_are_left_to_scrapy() -> None:
    answers: dict[str, int] = {}

    async def test(site: Site, base: str) -> None:
        elsewhere = [
            Conditional("http://127.0.0.2:1/x.html", "GET", ()),
            Conditional(base.replace("http://", "http://user:pw@") + "y.html", "GET", ()),
        ]
        requests = [*pages(base, 2), *elsewhere]
        assert await revalidate(requests, LIMITS, collect(answers)) is None

    site = run_site(lambda head: NOT_MODIFIED_HEAD, test)
    assert len(answers) == 2 and len(site.requests) == 2


# --- In a crawl ---


def test_an_unchanged_rerun_takes_every_answer_straight(
    crawled_snapshot: Path, session_snapshot_server: object, tmp_path: Path
) -> None:
    data = copy_data_dir(crawled_snapshot, tmp_path)
    url = session_snapshot_server.url  # type: ignore[attr-defined]
    plan = json.loads((data / "cache" / PLAN_FILE).read_text())["pages"]
    straight = [
        u
        for u, (final, status, _body, error, etag, modified) in plan.items()
        if (etag or modified) and (final, status, error) == (u, 200, None)
    ]
    assert straight

    result = crawl(url, data)
    assert result.returncode == 0, result.stderr
    rerun = report(data)
    assert rerun["outcome"] == "unchanged"
    assert rerun["quick_check"]["direct"] == len(straight)

    through_scrapy = crawl(url, data, "-s", "EXITSCRAPE_DIRECT_CHECK=False")
    assert through_scrapy.returncode == 0, through_scrapy.stderr
    again = report(data)
    assert again["outcome"] == "unchanged" and again["quick_check"]["direct"] == 0
    assert again["quick_check"]["confirmed"] == rerun["quick_check"]["confirmed"] == len(plan)


def test_robots_txt_holds_for_the_requests_sent_straight(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    data = tmp_path / "data"
    page = "/healthy-identity-intervention-hii.html"
    with FaultServer(site) as server:
        assert crawl(server.url, data).returncode == 0
        robots = site / "robots.txt"
        robots.write_text(robots.read_text() + f"Disallow: {page}\n")
        server.requests.clear()
        rerun = crawl(server.url, data)
        requested = [path for _, path, _ in server.requests]
    assert page not in requested  # never asked for, straight or through Scrapy
    assert rerun.returncode == 0, rerun.stderr
    assert f"{page[1:]} now disallowed by robots.txt, was fine; crawled the site" in rerun.stdout
    assert report(data)["programmes"] == 6  # that programme is no longer read


def test_a_server_error_hands_the_rest_of_the_check_to_scrapy(tmp_path: Path) -> None:
    site = copy_site(tmp_path)
    data = tmp_path / "data"
    with FaultServer(site) as server:
        assert crawl(server.url, data).returncode == 0
        pages = json.loads((data / "cache" / PLAN_FILE).read_text())["pages"]
        server.statuses["/healthy-identity-intervention-hii.html"] = [503]
        server.requests.clear()
        rerun = crawl(server.url, data)
        requested = [(path, status) for _, path, status in server.requests]
    assert rerun.returncode == 0, rerun.stderr
    checked = report(data)
    assert checked["outcome"] == "unchanged"  # Scrapy asked again and got its 304
    assert checked["quick_check"]["confirmed"] == len(pages)
    assert checked["quick_check"]["direct"] < len(pages)
    assert requested.count(("/healthy-identity-intervention-hii.html", 503)) == 1
    assert requested.count(("/healthy-identity-intervention-hii.html", 304)) == 1

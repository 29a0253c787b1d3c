"""Retry-After honoured on 503 and 429; all the attempts at one URL share one time limit. Real
crawls over HTTP on loopback; waits are checked as lower bounds on the gaps the server saw."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate
from pathlib import Path

from scrapy.http import Response

import exitscrape
from exitscrape.downloadermiddlewares.retry import retry_after
from tests.conftest import crawl
from tests.downloadermiddlewares.conftest import ScriptedHandler, ScriptedServer
from tests.weebly import small_site

CONTACT = "https://example.org/exitscrape-operator"


def busy(seconds: str, status: int = 503) -> tuple[int, dict[str, str], bytes]:
    return (status, {"Retry-After": seconds, "Content-Type": "text/html"}, b"<p>busy</p>")


def test_retry_after_is_waited_for(scripted: ScriptedServer, tmp_path) -> None:
    scripted.answers["/small.html"] = [busy("1")]
    scripted.answers["/"] = [busy("1", status=429)]
    result = crawl(
        scripted.url, tmp_path / "data", "-s", f"EXITSCRAPE_CONTACT_URL={CONTACT}"
    )  # a contact URL of the operator's own goes into the User-Agent
    assert result.returncode == 0, result.stderr
    for path in ("/", "/small.html"):
        first, retried = scripted.times(path)
        assert retried - first >= 1.0  # without Retry-After: retried at once
    assert list(exitscrape.load(data_dir=tmp_path / "data")["name"]) == ["Small Programme"]
    assert all(CONTACT in agent for _, _, agent in scripted.seen)


def test_a_retry_after_beyond_the_url_time_limit_fails_the_page_at_once(
    scripted: ScriptedServer, tmp_path
) -> None:
    scripted.answers["/small.html"] = [busy("3600")] * 3
    result = crawl(scripted.url, tmp_path / "data")
    assert result.returncode == 1  # the only programme page failed
    assert "small.html: HTTP 503" in result.stderr
    assert len(scripted.times("/small.html")) == 1  # not retried (Scrapy: 3 requests at once)


class DrippingHandler(ScriptedHandler):
    """``/drip.html`` sends its headers and then nothing, until the server closes."""

    server: DrippingServer

    def do_GET(self) -> None:
        if self.path == "/drip.html":
            self.server.seen.append((0.0, self.path, ""))
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"<p>")
            self.wfile.flush()
            self.server.closing.wait(60)
            return
        super().do_GET()


class DrippingServer(ScriptedServer):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.RequestHandlerClass = DrippingHandler
        self.closing = threading.Event()

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        super().__exit__(*exc)  # type: ignore[arg-type]


def test_all_attempts_at_a_url_share_one_time_limit(tmp_path: Path) -> None:
    with DrippingServer(small_site(tmp_path / "site", ["/drip.html"])) as server:
        result = crawl(
            server.url,
            tmp_path / "data",
            *("-s", "DOWNLOAD_TIMEOUT=1", "-s", "EXITSCRAPE_URL_TIMEOUT=1.5"),
            *("-s", "EXITSCRAPE_GATE_MAX_FAILED_SHARE=0.5"),  # 1 of the 3 pages fails
        )
        attempts = len(server.times("/drip.html"))
    assert result.returncode == 0, result.stderr
    # 1 s, then the 0.5 s left; Scrapy alone tries three times, 1 s each.
    assert attempts == 2
    pages = exitscrape.load("pages", data_dir=tmp_path / "data").set_index("url")
    (error,) = pages.loc[pages.index.str.endswith("/drip.html"), "error"]
    assert error.startswith("URLTimeoutError: gave up after 1.5 s and 2 attempts")
    assert "drip.html: URLTimeoutError" in result.stdout


def test_retry_after_reads_seconds_and_http_dates() -> None:
    def answer(value: str) -> Response:
        return Response("http://127.0.0.1/", status=503, headers={"Retry-After": value})

    assert retry_after(answer("120")) == 120
    in_a_minute = retry_after(answer(formatdate(time.time() + 60, usegmt=True)))
    assert in_a_minute is not None and 50 < in_a_minute <= 60
    assert retry_after(answer(formatdate(0, usegmt=True))) == 0  # in the past: no wait
    assert retry_after(answer("soon")) is None
    assert retry_after(Response("http://127.0.0.1/", status=503)) is None

"""Hostile pages (huge, endless, slow, binary, deeply malformed) fail alone: recorded as failed
in pages.parquet while the run completes and publishes."""

from __future__ import annotations

import threading
from pathlib import Path

import exitscrape
from exitscrape.snapshot.server import SiteServer
from tests.conftest import FaultHandler, FaultServer, copy_site, crawl

HOSTILE = ("huge", "endless", "slow", "binary", "malformed")
MAXSIZE = 1_000_000


class HostileHandler(FaultHandler):
    def stream(self, chunk: bytes, length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        try:
            while not self.server.closing:
                self.wfile.write(chunk)
                self.wfile.flush()
                if chunk == b"<":
                    self.server.trickle.wait(0.2)  # a slow server, one byte at a time
        except OSError:
            return  # the crawler gave up on us, as it should

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/huge.html":  # announces 50 MB
            self.stream(b"y" * 65536, 50 * 1024 * 1024)
        elif path == "/endless.html":  # no length, never ends
            self.stream(b"<p>" + b"x" * 65536 + b"</p>")
        elif path == "/slow.html":
            self.stream(b"<", 100_000)
        else:
            super().do_GET()


class HostileServer(FaultServer):
    closing = False

    def __init__(self, root: Path) -> None:
        SiteServer.__init__(self, root, handler=HostileHandler)
        self.statuses, self.redirects, self.raw = {}, {}, {}
        self.trickle = threading.Event()

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up on endless pages are the point, not an error."""

    def __exit__(self, *exc: object) -> None:
        self.closing = True
        self.trickle.set()
        super().__exit__(*exc)  # type: ignore[arg-type]


def test_hostile_pages_are_recorded_as_failed_and_the_run_completes(tmp_path: Path) -> None:
    site, data = copy_site(tmp_path), tmp_path / "data"
    index = site / "index.html"
    marker = '<div id="wsite-content" class="wsite-elements wsite-not-footer">'
    links = "".join(f'<a href="/{name}.html">{name}</a>' for name in HOSTILE)
    index.write_text(index.read_text().replace(marker, marker + links))
    with HostileServer(site) as server:
        server.raw["/binary.html"] = ("text/html", bytes(range(256)) * 400)
        server.raw["/malformed.html"] = (
            "text/html",
            b"<html><body><div id='wsite-content'><table><p>Name:<<</td>&#xfffffff;"
            + b"<div><span>" * 20_000,
        )
        result = crawl(
            server.url, data, "-s", f"DOWNLOAD_MAXSIZE={MAXSIZE}", "-s", "DOWNLOAD_TIMEOUT=1"
        )
    assert result.returncode == 0, result.stderr
    assert "published version" in result.stdout
    pages = exitscrape.load("pages", data_dir=data).set_index("url")
    hostile = pages[pages.index.str.contains("|".join(f"/{name}.html" for name in HOSTILE))]
    assert len(hostile) == len(HOSTILE)
    assert set(hostile["kind"]) == {"failed"}
    errors = {url.rsplit("/", 1)[-1]: error for url, error in hostile["error"].items()}
    assert "larger than download max size" in errors["huge.html"]
    assert errors["endless.html"].startswith("DownloadCancelledError")
    assert errors["slow.html"].startswith("DownloadTimeoutError")
    assert errors["binary.html"] == "binary content served as HTML"
    assert errors["malformed.html"].startswith("cannot parse the page")
    assert len(exitscrape.load(data_dir=data)) == 7

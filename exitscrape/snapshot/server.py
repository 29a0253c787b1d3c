"""Serve a static site (the bundled snapshot by default) over HTTP on loopback, in a thread.

Behaves like a plain web server: ``/`` serves ``index.html``, responses carry ``ETag`` and
``Last-Modified`` and conditional requests get ``304 Not Modified``, HEAD works, unknown paths
are 404. Used by ``exitscrape crawl --snapshot``, the tests and the benchmarks.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

SNAPSHOT_DIR = Path(str(files("exitscrape.snapshot").joinpath("site")))


class SiteHandler(BaseHTTPRequestHandler):
    """Static files from ``server.root`` with validators; subclass to inject faults in tests."""

    server: SiteServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for the
    # client's delayed ACK of the headers (40 ms on Linux) and every response takes 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the crawler reports what matters."""

    def resolve(self) -> Path | None:
        path = unquote(urlsplit(self.path).path)
        if path.endswith("/"):
            path += "index.html"
        candidate = (self.server.root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.server.root) or not candidate.is_file():
            return None
        return candidate

    def content_type(self, path: Path) -> str:
        """The media type, without a charset: pages declare theirs in a ``<meta>`` tag."""
        return mimetypes.guess_type(path.name)[0] or "application/octet-stream"

    def send_body(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve_file(self, path: Path) -> None:
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        mtime = int(path.stat().st_mtime)
        headers = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True)}
        if self.not_modified(etag, mtime):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.server.count(self, HTTPStatus.NOT_MODIFIED)
            return
        headers["Content-Type"] = self.content_type(path)
        self.send_body(HTTPStatus.OK, body, headers)
        self.server.count(self, HTTPStatus.OK)

    def not_modified(self, etag: str, mtime: int) -> bool:
        if (match := self.headers.get("If-None-Match")) is not None:
            return etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
        if since := self.headers.get("If-Modified-Since"):
            try:
                return mtime <= parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def do_GET(self) -> None:
        path = self.resolve()
        if path is None:
            self.send_body(
                HTTPStatus.NOT_FOUND, b"<h1>Not found</h1>", {"Content-Type": "text/html"}
            )
            self.server.count(self, HTTPStatus.NOT_FOUND)
        else:
            self.serve_file(path)

    do_HEAD = do_GET


class SiteServer(ThreadingHTTPServer):
    """``with SiteServer(root) as server: crawl(server.url)``; ``server.requests`` logs hits."""

    daemon_threads = True
    # socketserver's default backlog is 5: a crawler opening 16 connections at once would see
    # some connection attempts dropped and retried a second later, as no real server does.
    request_queue_size = 128

    def __init__(
        self,
        root: Path = SNAPSHOT_DIR,
        host: str = "127.0.0.1",
        port: int = 0,
        handler: type[SiteHandler] = SiteHandler,
    ) -> None:
        super().__init__((host, port), handler)
        self.root = Path(root).resolve()
        self.requests: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def count(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        with self._lock:
            self.requests.append((handler.command, urlsplit(handler.path).path, int(status)))

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()

"""A real web archive for tests: WARC captures of a static site at given dates, served by pywb.

:func:`write_capture` writes one capture of a site directory (every file, as a crawler would have
fetched it on that date) into a WARC with warcio: a request and a response record per URL, one
gzip member each, ``WARC-Date`` the capture date, ``WARC-Target-URI`` the page's URL on the site.
:class:`Pywb` makes a pywb collection of WARCs (``wb-manager init``, ``wb-manager add``) in a
working folder and serves it with ``wayback`` on a free loopback port, in a subprocess.

pywb runs from a venv of its own (:func:`pywb_venv`), never the project's: it requires
brotlipy, whose ``brotli`` package would shadow the module Scrapy decodes ``br`` responses with.
"""

from __future__ import annotations

import fcntl
import mimetypes
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from io import BytesIO
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from exitscrape.snapshot.server import SiteHandler, SiteServer

#: The site the captures claim to be of. Nothing is ever fetched from it: clients talk to pywb.
SITE = "https://www.exit-practices.eu/"
COLLECTION = "exit-practices"
_REASONS = {200: "OK", 301: "Moved Permanently", 404: "Not Found"}


@dataclass(frozen=True)
class Capture:
    """The site as a crawler found it at *date*: every file under *root* with status 200 (and
    ``index.html`` at ``/`` too), plus *answers*: path -> ``(status, headers, body)`` for URLs
    that answered otherwise (a 404 for a deleted page, a 301)."""

    date: datetime
    root: Path
    answers: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)

    def responses(self) -> dict[str, tuple[int, dict[str, str], bytes]]:
        """Path -> ``(status, headers, body)`` of every URL captured."""
        found: dict[str, tuple[int, dict[str, str], bytes]] = {}
        for file in sorted(p for p in self.root.rglob("*") if p.is_file()):
            path = "/" + quote(file.relative_to(self.root).as_posix())
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            found[path] = (200, {"Content-Type": content_type}, file.read_bytes())
        if "/index.html" in found:
            found["/"] = found["/index.html"]
        return {**found, **self.answers}


def write_capture(path: Path, capture: Capture, site: str = SITE) -> Path:
    """*capture* as a WARC file at *path*: a request and a response record for every URL."""
    host = urlsplit(site).netloc
    warc_date = capture.date.strftime("%Y-%m-%dT%H:%M:%SZ")
    http_date = format_datetime(capture.date, usegmt=True)
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(
            writer.create_warcinfo_record(
                path.name, {"software": "exitscrape tests", "isPartOf": COLLECTION}
            )
        )
        for url_path, (status, headers, body) in capture.responses().items():
            url = site.rstrip("/") + url_path
            request = writer.create_warc_record(
                url,
                "request",
                payload=BytesIO(b""),
                http_headers=StatusAndHeaders(
                    f"GET {url_path} HTTP/1.1",
                    [("Host", host), ("User-Agent", "exitscrape-tests")],
                    is_http_request=True,
                ),
                warc_headers_dict={"WARC-Date": warc_date},
            )
            response_headers = [
                *headers.items(),
                ("Content-Length", str(len(body))),
                ("Date", http_date),
            ]
            response = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                http_headers=StatusAndHeaders(
                    f"{status} {_REASONS[status]}", response_headers, protocol="HTTP/1.1"
                ),
                warc_headers_dict={"WARC-Date": warc_date},
            )
            request.rec_headers.add_header(
                "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
            )
            writer.write_record(request)
            writer.write_record(response)
    return path


#: pywb's venv: this environment variable if set, else ``pywb`` in the project's venv (built
#: there on first use, from REQUIREMENTS, as the tests' own throwaway).
PYWB_ENV = "EXITSCRAPE_TEST_PYWB"
REQUIREMENTS = Path(__file__).with_name("pywb-requirements.txt")
_BUILT = ".exitscrape-built"  # written last: a venv without it is half built


def pywb_venv() -> Path:
    """The venv pywb runs from, built (``python -m venv``, ``pip install -r REQUIREMENTS``) when
    missing or half built; one process builds it while others wait on a lock."""
    given = os.environ.get(PYWB_ENV)
    if given:
        venv = Path(given)
        if not (venv / "bin" / "wayback").is_file():
            raise RuntimeError(f"${PYWB_ENV}={given}: no bin/wayback there (pywb not installed)")
        return venv
    venv = Path(sys.prefix) / "pywb"
    marker = venv / _BUILT

    def built() -> bool:  # from the current requirements
        return marker.is_file() and marker.read_text() == REQUIREMENTS.read_text()

    if built():
        return venv
    with (Path(sys.prefix) / "pywb.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if built():
            return venv  # another process built it while this one waited
        shutil.rmtree(venv, ignore_errors=True)
        for command in (
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "pip"), "install", "-q", "-r", str(REQUIREMENTS)],
        ):
            result = subprocess.run(command, capture_output=True, text=True, timeout=900)
            if result.returncode:
                raise RuntimeError(
                    f"cannot build pywb's venv ({' '.join(command)}): {result.stderr[-2000:]}"
                    f"\n(or point ${PYWB_ENV} at a venv with {REQUIREMENTS.name} installed)"
                )
        marker.write_text(REQUIREMENTS.read_text())
    return venv


def _script(name: str) -> str:
    """A console script of pywb's venv (``wb-manager``, ``wayback``)."""
    return str(pywb_venv() / "bin" / name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Pywb:
    """``with Pywb(workdir, warcs) as pywb: pywb.url`` serves *warcs* as one collection.

    *collections* reuses another instance's collections instead of building one from WARCs;
    *redirect_to_exact* makes pywb redirect (307) a request for a capture's time to the
    capture's exact timestamp, as the Wayback Machine does (302).
    """

    def __init__(
        self,
        workdir: Path,
        warcs: list[Path] | None = None,
        *,
        collections: Path | None = None,
        redirect_to_exact: bool = False,
        ready_within: float = 60.0,
    ) -> None:
        self.workdir = workdir
        self.warcs = warcs or []
        self.collections = collections
        self.redirect_to_exact = redirect_to_exact
        self.ready_within = ready_within
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "wayback.log"

    @property
    def url(self) -> str:
        """The collection's replay endpoint, as ``exitscrape crawl --archive`` takes it."""
        return f"http://127.0.0.1:{self.port}/{COLLECTION}/"

    def _build(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.collections is not None:
            (self.workdir / "collections").symlink_to(self.collections)
        else:
            manager = _script("wb-manager")
            for args in (["init", COLLECTION], ["add", COLLECTION, *map(str, self.warcs)]):
                subprocess.run(
                    [manager, *args], cwd=self.workdir, check=True, capture_output=True, timeout=120
                )
        if self.redirect_to_exact:
            (self.workdir / "config.yaml").write_text("redirect_to_exact: true\n")

    def _serve(self) -> bool:
        """Start wayback on a free port; whether it answers (``False``: it lost the port)."""
        self.port = _free_port()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [_script("wayback"), "-p", str(self.port), "-b", "127.0.0.1"],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        probe = f"{self.url}cdx?url={quote(SITE)}&limit=1"
        deadline = time.monotonic() + self.ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(probe, timeout=5) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pywb did not answer within {self.ready_within} s: see {self.log}")

    def __enter__(self) -> Pywb:
        self._build()
        for _ in range(3):  # another process may take the free port before wayback binds it
            if self._serve():
                return self
        raise RuntimeError(f"pywb would not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _FrontHandler(SiteHandler):
    server: ArchiveFront

    def do_GET(self) -> None:
        front = self.server
        front.log.append((time.monotonic(), self.command, self.path, self.headers["User-Agent"]))
        if front.hold and front.hold in self.path:
            front.holding.set()
            front.release.wait(timeout=120)
        for key, answers in front.faults.items():
            if key in self.path and answers:
                status, headers, body = answers.pop(0)
                self.send_body(status, body, headers)
                return
        request = urllib.request.Request(front.upstream + self.path, method=self.command)
        opener = urllib.request.build_opener(_NoRedirects())
        try:
            with opener.open(request, timeout=60) as response:
                status, received, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            with error:
                status, received, body = error.code, error.headers, error.read()
        headers = {
            name: value.replace(front.upstream, front.base)
            for name, value in received.items()
            if name.lower() not in _HOP_BY_HOP
        }
        self.send_body(status, body, headers)

    do_HEAD = do_GET


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


class ArchiveFront(SiteServer):
    """A loopback front to a pywb, to see and disturb what a crawl asks of the archive.

    Every request is logged (``log``: time, method, path, User-Agent) and passed on to
    *archive*'s server, its answer passed back (with the server's URL in headers made the
    front's); a request whose path holds a key of ``faults`` is first answered with that key's
    answers (status, headers, body), one per request; one whose path holds ``hold`` waits until
    ``release`` is set (``holding`` says one arrived). ``url`` is the collection at the front.
    """

    def __init__(self, archive: str) -> None:
        super().__init__(Path("."), handler=_FrontHandler)
        parts = urlsplit(archive)
        self.upstream = f"{parts.scheme}://{parts.netloc}"
        self.base = self.url.rstrip("/")
        self.collection = parts.path
        self.log: list[tuple[float, str, str, str]] = []
        self.faults: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self.hold: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    @property
    def archive(self) -> str:
        """The collection's replay endpoint at the front."""
        return self.base + self.collection

    def reset(self) -> None:
        self.log, self.faults, self.hold = [], {}, None
        self.holding.clear()
        self.release.clear()

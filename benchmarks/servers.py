"""Web servers for the benchmark's generated sites: nginx on loopback, or the project's Python
``SiteServer`` as a fallback.

nginx runs as a child process in the foreground (``daemon off``) with a generated ``nginx.conf``
in a temporary directory that also holds its pid file, logs and temp paths, so no root is needed
(as root, its workers run as root so that they can read the site under ``/tmp``). It serves
``ETag`` and ``Last-Modified`` and answers conditional requests with ``304 Not Modified``, like
``SiteServer``. Both expose ``url`` and ``requests`` (``(method, path, status)`` per request).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from exitscrape.snapshot.server import SiteServer

#: How to get nginx where it is missing (Debian, Ubuntu); ``benchmarks/setup.sh`` runs it.
INSTALL_HINT = "apt-get install -y nginx  (or: sudo benchmarks/setup.sh)"

_CONF = """\
{user}worker_processes {workers};
pid "{tmp}/nginx.pid";
error_log "{tmp}/error.log" warn;
daemon off;

events {{
    worker_connections 1024;
}}

http {{
    types {{
        text/html html htm;
        text/css css;
        text/plain txt;
        application/javascript js;
        application/pdf pdf;
        image/png png;
        image/jpeg jpg jpeg;
    }}
    default_type application/octet-stream;
    log_format bench '$request_method $request_uri $status';
    access_log "{tmp}/access.log" bench;
    log_not_found off;
    client_body_temp_path "{tmp}/client_body";
    proxy_temp_path "{tmp}/proxy";
    fastcgi_temp_path "{tmp}/fastcgi";
    uwsgi_temp_path "{tmp}/uwsgi";
    scgi_temp_path "{tmp}/scgi";
    sendfile on;
    tcp_nopush on;
    gzip {gzip};
    # etag on and if_modified_since exact are nginx's defaults: a conditional request with the
    # validators of the file as it is gets 304 Not Modified.
    etag on;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root "{root}";
        index index.html;
    }}
}}
"""


def nginx_binary() -> str | None:
    """The nginx executable (``PATH``, then ``/usr/sbin``), or ``None``."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NginxServer:
    """``with NginxServer(root) as server: crawl(server.url)``: nginx serving *root* on loopback."""

    def __init__(self, root: Path, workers: str = "1", gzip: bool = False, port: int = 0) -> None:
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError(f"nginx is not installed: {INSTALL_HINT}")
        self.binary = binary
        self.root = Path(root).resolve()
        self.workers = workers
        self.gzip = gzip
        self.fixed_port = port  # 0: any free port
        self.port = 0
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def tmp(self) -> Path:
        assert self._tmp is not None, "not started"
        return Path(self._tmp.name)

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """Every request served so far, from the access log (nginx writes it unbuffered)."""
        found = []
        log = self.tmp / "access.log"
        text = log.read_text(encoding="latin-1") if log.exists() else ""
        for line in text.splitlines():
            method, _, rest = line.partition(" ")
            target, _, status = rest.rpartition(" ")
            found.append((method, unquote(urlsplit(target).path), int(status)))
        return found

    def cpu_seconds(self) -> float:
        """CPU time nginx (master and workers) has used so far."""
        if self._process is None:
            return 0.0
        pids = [self._process.pid]
        children = Path(f"/proc/{self._process.pid}/task/{self._process.pid}/children")
        if children.exists():
            pids += [int(pid) for pid in children.read_text().split()]
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def version(self) -> str:
        done = subprocess.run([self.binary, "-v"], capture_output=True, text=True)
        return (done.stderr or done.stdout).strip().removeprefix("nginx version: ")

    def config(self) -> str:
        user = "user root root;\n" if os.geteuid() == 0 else ""
        return _CONF.format(
            user=user,
            workers=self.workers,
            tmp=self.tmp,
            port=self.port,
            root=self.root,
            gzip="on" if self.gzip else "off",
        )

    def _start(self) -> bool:
        self.port = self.fixed_port or _free_port()
        conf = self.tmp / "nginx.conf"
        conf.write_text(self.config(), encoding="utf-8")
        (self.tmp / "access.log").unlink(missing_ok=True)
        command = [self.binary, "-p", str(self.tmp), "-e", str(self.tmp / "error.log")]
        self._process = subprocess.Popen(
            [*command, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False  # the port was taken in between, say: try another
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return True
            time.sleep(0.02)
        self._stop()
        return False

    def _stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def __enter__(self) -> NginxServer:
        self._tmp = tempfile.TemporaryDirectory(prefix="exitscrape-nginx-")
        for _ in range(1 if self.fixed_port else 5):
            if self._start():
                return self
        log = self.tmp / "error.log"
        errors = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self._tmp.cleanup()
        raise RuntimeError(f"nginx did not start:\n{errors}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


ServerContext = NginxServer | SiteServer
"""A server to use in a ``with`` block: ``url``, ``requests`` (method, path, status)."""


def server_cpu_seconds(server: ServerContext) -> float:
    """CPU time the server has used so far: nginx's processes, or this process (whose only
    work while a crawl runs is the Python server's threads)."""
    if isinstance(server, NginxServer):
        return server.cpu_seconds()
    return time.process_time()


def make_server(kind: str, root: Path, workers: str = "1", gzip: bool = False) -> ServerContext:
    """The server *kind* (``nginx`` or ``python``) for *root*, to use in a ``with`` block."""
    if kind == "nginx":
        return NginxServer(root, workers=workers, gzip=gzip)
    if kind == "python":
        return SiteServer(root)
    raise ValueError(f"unknown server {kind!r}")

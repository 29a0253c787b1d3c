"""A crawl whose captures hold every kind of answer, made once for the evidence tests.

The site is a copy of the snapshot with faults: an on-site redirect to a page crawled anyway, a
redirect to a page met only through it, a redirect off the site, a 404, a page answering 500 then
200, a file whose server refuses HEAD, a page robots.txt forbids, and a programme page served
gzip-compressed with hostile header lines (bytes outside ASCII and a NUL, a line break inside a
value, a header claiming to be the record's WARC-Record-ID).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from exitscrape.dataset.store import DatasetStore
from exitscrape.snapshot.server import SiteServer
from tests.conftest import FaultHandler, FaultServer, copy_site, crawl

GZIP_PAGE = "/team-ter-terrorists-extremists-and-radicals.html"
#: A credential the crawl sends with every request (an operator's API token, say).
SECRET = "tok-3f9a1c7e"
LINKS = {
    "moved.html": "redirect to a page crawled anyway",
    "renamed.html": "redirect to a page met only through it",
    "away.html": "redirect off the site",
    "gone.html": "404",
    "flaky.html": "500, then the page",
    "report.pdf": "HEAD refused",
    "private.html": "forbidden by robots.txt",
}


class EvidenceHandler(FaultHandler):
    """The fault server, and a gzip-compressed page with hostile header lines."""

    def do_GET(self) -> None:
        if self.path.split("?")[0] != GZIP_PAGE:
            super().do_GET()
            return
        body = gzip.compress((self.server.root / GZIP_PAGE.lstrip("/")).read_bytes())
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("X-Latin", "caf\xe9 \x00")
        self.send_header("X-Split", "a\nWARC-Type: response")
        self.send_header("WARC-Record-ID", "<urn:uuid:forged>")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.count(self, 200)

    do_HEAD = do_GET


class EvidenceServer(FaultServer):
    def __init__(self, root: Path, port: int = 0) -> None:
        SiteServer.__init__(self, root, port=port, handler=EvidenceHandler)
        self.statuses, self.redirects, self.raw, self.refuse_head = {}, {}, {}, set()


def evidence_site(root: Path) -> Path:
    """The snapshot with links to every fault from a category page, and robots.txt rules."""
    site = copy_site(root)
    page = site / "far-left.html"
    anchor = '<div id="wsite-content" class="wsite-elements wsite-not-footer">'
    links = "".join(f'<p><a href="/{name}">{what}</a></p>' for name, what in LINKS.items())
    assert anchor in page.read_text()
    page.write_text(page.read_text().replace(anchor, anchor + links, 1))
    shutil.copy(site / "contact.html", site / "flaky.html")
    shutil.copy(site / "exit-ndash-germany.html", site / "new-home.html")
    (site / "report.pdf").write_bytes(b"%PDF-1.4 a report\n")
    robots = site / "robots.txt"
    robots.write_text(robots.read_text() + "Disallow: /private.html\n")
    (site / "private.html").write_text("<html><body>private</body></html>")
    return site


def faulty(server: FaultServer) -> FaultServer:
    server.redirects["/moved.html"] = "/mentoring-programme.html"
    server.redirects["/renamed.html"] = "/new-home.html"
    server.redirects["/away.html"] = f"http://127.0.0.2:{server.server_address[1]}/away.html"
    server.statuses["/flaky.html"] = [500]
    server.refuse_head.add("/report.pdf")
    return server


@dataclass(frozen=True)
class Crawled:
    """A data dir with one version crawled from the evidence site, whose server is stopped."""

    data: Path
    site: Path
    url: str
    port: int
    version: str
    requests: list[tuple[str, str, int]]

    @property
    def folder(self) -> Path:
        return self.data / self.version

    @property
    def captures(self) -> Path:
        return self.folder / "captures.warc.gz"

    def copy(self, target: Path) -> Path:
        """A private copy of the data dir, to change."""
        return Path(shutil.copytree(self.data, target))


@pytest.fixture(scope="package")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    root = tmp_path_factory.mktemp("evidence")
    site, data = evidence_site(root), root / "data"
    headers = json.dumps({"Authorization": f"Bearer {SECRET}", "X-Api-Key": SECRET})
    with faulty(EvidenceServer(site)) as server:
        result = crawl(server.url, data, "-s", f"DEFAULT_REQUEST_HEADERS={headers}")
        requests = list(server.requests)
    assert result.returncode == 0, result.stderr
    version = DatasetStore(data).latest()
    assert version is not None
    return Crawled(data, site, server.url, server.server_address[1], version, requests)


def records(path: Path) -> Iterator[dict[str, Any]]:
    """Every record of a WARC, read with warcio: type, WARC headers, HTTP status line and
    headers, the payload as stored, and the payload without its Content-Encoding."""
    with path.open("rb") as file:
        for record in ArchiveIterator(file):
            http = record.http_headers
            encoding = http.get_header("Content-Encoding") if http else None
            raw = record.raw_stream.read()
            decoded = gzip.decompress(raw) if encoding == "gzip" else raw
            yield {
                "type": record.rec_type,
                "warc": dict(record.rec_headers.headers),
                "version": record.rec_headers.protocol,
                "http": http,
                "status": int(http.get_statuscode())
                if http and record.rec_type == "response"
                else None,
                "raw": raw,
                "body": decoded,
            }


def console_script(name: str) -> str:
    """A console script of this environment (warcio, wacz)."""
    return str(Path(sys.executable).with_name(name))


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def forge(folder: Path, edit: Callable[[Any, bytes], bytes | None]) -> None:
    """Rewrite a version's captures as a forger would: *edit(record, payload)* returns the new
    payload (``None`` drops the record); digests are recomputed and the manifest updated, so
    that only a check against the pages table can tell."""
    path = folder / "captures.warc.gz"
    out = BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    with path.open("rb") as file:
        for record in ArchiveIterator(file):
            payload = edit(record, record.raw_stream.read())
            if payload is None:
                continue
            headers = record.rec_headers
            for name in ("WARC-Payload-Digest", "WARC-Block-Digest", "Content-Length"):
                headers.remove_header(name)
            writer.write_record(
                writer.create_warc_record(
                    headers.get_header("WARC-Target-URI") or "",
                    record.rec_type,
                    payload=BytesIO(payload),
                    length=len(payload),
                    warc_headers=headers,
                    http_headers=record.http_headers,
                )
            )
    path.write_bytes(out.getvalue())
    document = manifest(folder)
    document["files"]["captures.warc.gz"] = {
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    (folder / "manifest.json").write_text(json.dumps(document))


def flip_byte(path: Path) -> None:
    """Change one byte in the middle of *path*."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

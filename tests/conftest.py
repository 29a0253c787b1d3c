"""Shared fixtures: loopback web servers (with injectable faults) and the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from exitscrape.dataset.schema import PAGES, PROGRAMMES
from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteHandler, SiteServer

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
# Tests crawl loopback servers at full speed.
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
#: What a crawl of the bundled snapshot must find, written independently of the code.
EXPECTED = json.loads((DATA / "snapshot_expected.json").read_text())
HII = "healthy-identity-intervention-hii.html"


def copy_site(tmp_path: Path) -> Path:
    """A copy of the bundled snapshot to edit, in *tmp_path*/site."""
    return Path(shutil.copytree(SNAPSHOT_DIR, tmp_path / "site"))


def report(data: Path, index: int = -1) -> dict:
    """A run report of the data dir *data*: the last one by default."""
    return json.loads(sorted((data / "runs").glob("*.json"))[index].read_text())


class FaultHandler(SiteHandler):
    """A static site with faults injected per path (see :class:`FaultServer`)."""

    server: FaultServer

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if self.command == "HEAD" and path in self.server.refuse_head:
            self.send_body(405, b"", {"Allow": "GET"})
            self.server.count(self, 405)
            return
        statuses = self.server.statuses.get(path)
        if statuses:
            status = statuses.pop(0)
            self.send_body(status, b"<h1>error</h1>", {"Content-Type": "text/html"})
            self.server.count(self, status)
            return
        if path in self.server.redirects:
            self.send_body(301, b"", {"Location": self.server.redirects[path]})
            self.server.count(self, 301)
            return
        if path in self.server.raw:
            content_type, body = self.server.raw[path]
            self.send_body(200, body, {"Content-Type": content_type})
            self.server.count(self, 200)
            return
        super().do_GET()

    do_HEAD = do_GET


class FaultServer(SiteServer):
    """``statuses``: path -> statuses to answer first (e.g. [500] then the file);
    ``redirects``: path -> Location; ``raw``: path -> (Content-Type, body);
    ``refuse_head``: paths that answer HEAD with 405."""

    def __init__(self, root: Path, host: str = "127.0.0.1") -> None:
        super().__init__(root, host=host, handler=FaultHandler)
        self.statuses: dict[str, list[int]] = {}
        self.redirects: dict[str, str] = {}
        self.raw: dict[str, tuple[str, bytes]] = {}
        self.refuse_head: set[str] = set()


@pytest.fixture
def snapshot_server() -> Iterator[SiteServer]:
    with SiteServer(SNAPSHOT_DIR) as server:
        yield server


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m exitscrape ARGS`` in a subprocess, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "exitscrape", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def cli_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """``python -m exitscrape ARGS`` with stderr on a pseudo-terminal; return the status,
    stdout and what the terminal showed."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "exitscrape", *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=terminal, text=True,
    )  # fmt: skip
    os.close(terminal)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(controller)
    stdout, _ = proc.communicate(timeout=300)
    return proc.returncode, stdout, seen.decode(errors="replace")


def crawl(url: str, data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("crawl", "--start-url", url, "--data-dir", str(data_dir), *FAST, *extra)


#: The snapshot as it was "before": one programme page missing, one organisation since renamed.
OLD_SNAPSHOT_EDITS = {
    "research-and-intervention-on-violent-extremism-rive1.html": None,
    "healthy-identity-intervention-hii.html": (
        "Her Majesty&rsquo;s Prison and Probation Service (HMPPS)",
        "National Offender Management Service (NOMS)",
    ),
}


@pytest.fixture(scope="session")
def snapshot_versions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with two versions crawled over HTTP: an edited copy of the snapshot, then the
    snapshot itself (one programme added, one changed). Shared: copy it before writing to it."""
    root = tmp_path_factory.mktemp("snapshot-versions")
    old_site = root / "old-site"
    shutil.copytree(SNAPSHOT_DIR, old_site)
    for name, edit in OLD_SNAPSHOT_EDITS.items():
        page = old_site / name
        if edit is None:
            page.unlink()
        else:
            assert edit[0] in page.read_text()
            page.write_text(page.read_text().replace(*edit))
    data_dir = root / "data"
    # Both crawls on one port, so the programmes' source URLs are equal across versions.
    with SiteServer(old_site) as server:
        port = server.server_address[1]
        result = crawl(server.url, data_dir)
    assert result.returncode == 0, result.stderr
    with SiteServer(SNAPSHOT_DIR, port=port) as server:
        result = crawl(server.url, data_dir)
    assert result.returncode == 0, result.stderr
    return data_dir


#: Control sequences an attacker puts in page text and headers: retitle the window, clear the
#: screen (ESC), and a C1 CSI.
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b2J"
TEAM_TER = "team-ter-terrorists-extremists-and-radicals.html"
#: A name that is a spreadsheet formula, HTML and a Markdown link at once (as page text).
HOSTILE_NAME = "@SUM(1+1) <img src=x onerror=alert(1)> [x](javascript:alert(1)) Team TER"
#: How an editor (and an attacker) changed the snapshot between the two crawls of
#: `edited_versions`: file -> (old, new) replacements.
EDITS = {
    # One copy of a duplicated programme only (mentoring-programme1.html is the other).
    "mentoring-programme.html": [
        ("Public Security</span>", "Public Security (Kriminalomsorgen)</span>")
    ],
    # One word of a long description.
    HII: [("Lord Bach, in February 2009", "Lord Bach, in March 2009")],
    TEAM_TER: [
        (
            '<font size="6">Team TER (Terrorists, Extremists and Radicals)</font>',
            f'<font size="6">{HOSTILE_NAME.replace("<", "&lt;").replace(">", "&gt;")}</font>',
        ),
        ("<strong>Netherlands</strong>", "<strong>[Netherlands](javascript:alert(1))</strong>"),
        (
            "The nationally operating Team TER",
            f'=HYPERLINK("http://127.0.0.2/x","go") {ESCAPES} The nationally operating Team TER',
        ),
    ],
}
#: A link on the home page to a redirect whose Location holds control sequences.
HOSTILE_REDIRECT = ("/exit-redirect.html", f"http://127.0.0.2/{ESCAPES}")


@dataclass(frozen=True)
class EditedVersions:
    data_dir: Path
    first: subprocess.CompletedProcess[str]  # the crawl of the snapshot copy
    second: subprocess.CompletedProcess[str]  # the crawl after EDITS


@pytest.fixture(scope="session")
def edited_versions(tmp_path_factory: pytest.TempPathFactory) -> EditedVersions:
    """A data dir with two versions crawled over HTTP from one server: a copy of the snapshot
    whose home page links to a redirect with control sequences in its Location, then the same
    after EDITS. Shared: copy it before writing to it."""
    root = tmp_path_factory.mktemp("edited-versions")
    site = copy_site(root)
    home = site / "index.html"
    link = '<a href="/mentoring-programme1.html">'
    home.write_text(home.read_text().replace(link, f'<a href="{HOSTILE_REDIRECT[0]}">x</a> {link}'))
    data_dir = root / "data"
    with FaultServer(site) as server:
        server.redirects[HOSTILE_REDIRECT[0]] = HOSTILE_REDIRECT[1]
        first = crawl(server.url, data_dir)
        for name, edits in EDITS.items():
            page = site / name
            html = page.read_text()
            for old, new in edits:
                assert html.count(old) == 1, (name, old)
                html = html.replace(old, new)
            page.write_text(html)
        second = crawl(server.url, data_dir)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    return EditedVersions(data_dir, first, second)


def one_programme_tables(**fields: object) -> dict[str, pa.Table]:
    """Tables of a version holding one programme with every optional field empty (*fields*
    override), for tests that publish by hand."""
    row = {
        "programme_id": "p-x",
        "name": "P",
        "country": None,
        "country_code": None,
        "target_audience": None,
        "organisation": None,
        "objectives": [],
        "description": None,
        "references": [],
        "settings": [],
        "ideologies": [],
        "regions": [],
        "source_urls": ["http://127.0.0.1/p.html"],
        "differing_copies": [],
        "content_sha256": "0" * 64,
        "crawled_at": datetime(2026, 1, 1, tzinfo=UTC),
        **fields,
    }
    return {
        "programmes": pa.Table.from_pylist([row], schema=PROGRAMMES),
        "pages": pa.Table.from_pylist([], schema=PAGES),
    }


@pytest.fixture(scope="session")
def session_snapshot_server() -> Iterator[SiteServer]:
    """The bundled snapshot, served for the whole session on one port (so a data dir crawled
    from it can be crawled again with the same start URL)."""
    with SiteServer(SNAPSHOT_DIR) as server:
        yield server


@pytest.fixture(scope="session")
def crawled_snapshot(
    session_snapshot_server: SiteServer, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A data dir holding one crawl of :func:`session_snapshot_server` (its version, HTTP cache,
    quick-check plan and run report). Shared: use :func:`copy_data_dir` before writing to it."""
    data_dir = tmp_path_factory.mktemp("crawled-snapshot") / "data"
    result = crawl(session_snapshot_server.url, data_dir)
    assert result.returncode == 0, result.stderr
    return data_dir


def copy_data_dir(data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the shared data dir *data_dir*, in *tmp_path*/data."""
    return Path(shutil.copytree(data_dir, tmp_path / "data", symlinks=True))

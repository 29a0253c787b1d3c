"""Nothing lost, nothing half-done: the run lock, and real SIGKILLs mid-crawl and mid-publish."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import exitscrape
from exitscrape.dataset.store import DatasetStore
from exitscrape.extensions.runlock import RunLock
from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteServer
from tests.conftest import FAST, HII, REPO, FaultHandler, FaultServer, copy_site, crawl

HANG = "/team-ter-terrorists-extremists-and-radicals.html"


class HangingHandler(FaultHandler):
    """Holds requests for ``server.hang`` until ``server.release`` is set."""

    server: HangingServer

    def do_GET(self) -> None:
        if self.path.split("?")[0] == self.server.hang:
            self.server.hanging.set()
            self.server.release.wait()
        super().do_GET()


class HangingServer(FaultServer):
    def __init__(self, root: Path, hang: str) -> None:
        SiteServer.__init__(self, root, handler=HangingHandler)
        self.statuses, self.redirects, self.raw = {}, {}, {}
        self.hang = hang
        self.hanging = threading.Event()
        self.release = threading.Event()


def start_crawl(url: str, data: Path, pause_at: tuple[str, Path] | None = None) -> subprocess.Popen:
    """``exitscrape crawl`` in a subprocess; *pause_at* (point, flag file) stops it at a point of
    publishing (tests/pause_at.py)."""
    runner = (
        ["-m", "tests.pause_at", pause_at[0], str(pause_at[1])]
        if pause_at
        else ["-m", "exitscrape"]
    )
    return subprocess.Popen(
        [sys.executable, *runner, "crawl", "--start-url", url, "--data-dir", str(data), *FAST],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def wait_until(reached: Callable[[], bool], proc: subprocess.Popen) -> None:
    """Wait for the crawl to reach a point (a synchronisation, not a timing assertion)."""
    deadline = time.monotonic() + 120
    while not reached():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the crawl never reached the point"
        time.sleep(0.02)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL


def assert_intact(data: Path, latest: str, rows: int) -> None:
    store = DatasetStore(data)
    assert store.latest() == latest
    for version in store.versions():  # every visible version is complete and loadable
        manifest = store.manifest(version)
        for name, meta in manifest["files"].items():
            assert (data / version / name).stat().st_size == meta["bytes"]
        assert (
            len(exitscrape.load(version=version, data_dir=data)) == manifest["rows"]["programmes"]
        )
    assert len(exitscrape.load(data_dir=data)) == rows


def test_busy_lock_stops_the_run_with_exit_4(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with SiteServer(SNAPSHOT_DIR) as server, RunLock(data):
        result = crawl(server.url, data)
        assert server.requests == []  # the locked-out run did not crawl
    assert result.returncode == 4
    assert "another run is using" in result.stderr and f"pid {os.getpid()}" in result.stderr
    assert result.stderr.count("another run is using") == 1  # said once, not logged as well
    assert DatasetStore(data).versions() == []
    (report,) = [json.loads(p.read_text()) for p in (data / "runs").glob("*.json")]
    assert report["outcome"] == "locked" and report["finish_reason"] == "lock_busy"


def test_a_symlink_planted_at_the_lock_is_never_followed(tmp_path: Path) -> None:
    data, victim = tmp_path / "data", tmp_path / "victim.txt"
    data.mkdir()
    victim.write_text("precious\n")
    (data / ".lock").symlink_to(victim)  # the lock file is truncated when taken
    with SiteServer(SNAPSHOT_DIR) as server:
        result = crawl(server.url, data)
        assert server.requests == []
    assert result.returncode == 1
    assert f"cannot use the data dir {data}" in result.stderr
    assert victim.read_text() == "precious\n"
    assert DatasetStore(data).versions() == []


def test_scrapy_crawl_takes_the_same_lock(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with SiteServer(SNAPSHOT_DIR) as server, RunLock(data):
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "exit_practices",
             "-a", f"start_url={server.url}", "-s", f"EXITSCRAPE_DATA_DIR={data}", *FAST],
            cwd=REPO, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert "another run is using" in result.stderr
    assert DatasetStore(data).versions() == []
    (report,) = [json.loads(p.read_text()) for p in (data / "runs").glob("*.json")]
    assert report["outcome"] == "locked"


def test_sigkill_mid_crawl_leaves_the_dataset_and_the_next_run_succeeds(tmp_path: Path) -> None:
    site, data = copy_site(tmp_path), tmp_path / "data"
    with HangingServer(site, HANG) as server:
        server.release.set()
        assert crawl(server.url, data).returncode == 0
        (v1,) = DatasetStore(data).versions()
        server.release.clear()
        page = site / HII
        page.write_text(page.read_text().replace("HMPPS", "HMPPS, England and Wales"))
        proc = start_crawl(server.url, data)
        wait_until(server.hanging.is_set, proc)
        kill(proc)  # while a request is in flight, the lock held and the cache in use
        server.release.set()
        assert_intact(data, v1, 7)
        assert (data / ".lock").exists()  # the lock file of the dead run: stale, not held
        again = crawl(server.url, data)
    assert again.returncode == 0, again.stderr
    assert "published version" in again.stdout
    assert DatasetStore(data).latest() != v1
    assert_intact(data, DatasetStore(data).latest() or "", 7)


@pytest.mark.parametrize("point", ["before-rename", "before-latest"])
def test_sigkill_mid_publish_leaves_latest_complete(tmp_path: Path, point: str) -> None:
    site, data = copy_site(tmp_path), tmp_path / "data"
    store = DatasetStore(data)
    with SiteServer(site) as server:
        assert crawl(server.url, data).returncode == 0
        (v1,) = store.versions()
        page = site / HII
        page.write_text(page.read_text().replace("HMPPS", "HMPPS, England and Wales"))
        flag = tmp_path / "paused"
        proc = start_crawl(server.url, data, pause_at=(point, flag))
        wait_until(flag.exists, proc)
        kill(proc)
        assert_intact(data, v1, 7)
        if point == "before-rename":
            assert store.versions() == [v1]  # the half-built version is hidden
            assert any(p.name.startswith(".tmp-") for p in data.iterdir())
        else:
            assert len(store.versions()) == 2  # complete, but not yet LATEST
        again = crawl(server.url, data)
    assert again.returncode == 0, again.stderr
    latest = store.latest()
    assert latest is not None and latest == store.versions()[-1] != v1
    assert not any(p.name.startswith(".tmp-") for p in data.iterdir())
    assert len(store.versions()) == 2  # the killed run's version was adopted, not duplicated
    assert_intact(data, latest, 7)
    organisations = exitscrape.load(data_dir=data)["organisation"].dropna().tolist()
    assert "Her Majesty’s Prison and Probation Service (HMPPS, England and Wales)" in organisations

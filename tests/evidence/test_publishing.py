"""Captures are published with their version or not at all: a run that publishes nothing
(unchanged, a gate failed, interrupted, killed, its disk full) leaves no captures behind."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from exitscrape.dataset.store import DatasetStore
from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteServer
from tests.conftest import FAST, REPO, copy_site, crawl
from tests.extensions.test_publish_kill_and_lock import (
    HANG,
    HangingServer,
    kill,
    start_crawl,
    wait_until,
)


def leftovers(data: Path) -> list[str]:
    """Files in the data dir outside its versions that look like captures or staging."""
    versions = set(DatasetStore(data).versions())
    return sorted(
        str(path.relative_to(data))
        for path in data.rglob("*")
        if (path.name.startswith(".tmp-") or "warc" in path.name)
        and path.relative_to(data).parts[0] not in versions
    )


def test_an_unchanged_rerun_keeps_no_captures(tmp_path) -> None:
    data = tmp_path / "data"
    with SiteServer(SNAPSHOT_DIR) as server:
        assert crawl(server.url, data).returncode == 0
        again = crawl(server.url, data)
    assert again.returncode == 0, again.stderr
    assert "unchanged: every page answered as it did" in again.stdout
    assert len(DatasetStore(data).versions()) == 1
    assert leftovers(data) == []


def test_a_failed_gate_keeps_no_captures(tmp_path) -> None:
    data = tmp_path / "data"
    with SiteServer(SNAPSHOT_DIR) as server:
        result = crawl(server.url, data, "-s", "EXITSCRAPE_GATE_MIN_PROGRAMMES=100")
    assert result.returncode == 3, result.stderr
    assert DatasetStore(data).versions() == []
    assert leftovers(data) == []


def test_ctrl_c_mid_crawl_keeps_no_captures(tmp_path) -> None:
    site, data = copy_site(tmp_path), tmp_path / "data"
    with HangingServer(site, HANG) as server:
        proc = start_crawl(server.url, data)
        wait_until(server.hanging.is_set, proc)  # pages already captured, one in flight
        assert any(p.name.endswith("captures.warc.gz") for p in data.iterdir())
        proc.send_signal(signal.SIGINT)
        server.release.set()
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr  # interrupted: nothing published
    assert DatasetStore(data).versions() == []
    assert leftovers(data) == []


def test_a_killed_run_leaves_staged_captures_the_next_publish_removes(tmp_path) -> None:
    site, data = copy_site(tmp_path), tmp_path / "data"
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    with HangingServer(site, HANG) as server:
        proc = start_crawl(server.url, data)
        wait_until(server.hanging.is_set, proc)
        kill(proc)
        (staged,) = [p for p in data.iterdir() if p.name.endswith("captures.warc.gz")]
        assert staged.name.startswith(".tmp-")
        os.symlink(outside, data / ".tmp-planted")  # a planted link: removed, not followed
        server.release.set()
        again = crawl(server.url, data)
    assert again.returncode == 0, again.stderr
    assert leftovers(data) == []
    assert outside.read_text() == "keep me"
    version = DatasetStore(data).latest()
    assert (data / str(version) / "captures.warc.gz").is_file()


def test_captures_that_cannot_be_written_fail_the_run(tmp_path) -> None:
    """A file size limit below the captures' size (a full disk, as far as the crawl can tell):
    the run fails, publishes nothing, and removes what it wrote."""
    data = tmp_path / "data"

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    with SiteServer(copy_site(tmp_path)) as server:
        result = subprocess.run(
            [sys.executable, "-m", "exitscrape", "crawl", "--start-url", server.url,
             "--data-dir", str(data), *FAST],
            cwd=REPO, capture_output=True, text=True, timeout=300, preexec_fn=limit_file_size,
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "the captures could not be written" in result.stderr
    assert "File too large" in result.stderr
    assert DatasetStore(data).versions() == []
    assert leftovers(data) == []

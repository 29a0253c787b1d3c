"""Ctrl-C and SIGTERM mid-crawl: outcome ``interrupted``, exit 130 / 143, a run report, nothing
published, the lock released, no temporary file left; a second Ctrl-C stops at once and leaves
the data dir as consistent. Real ``exitscrape crawl`` processes, signalled while the test server
holds one of their requests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from exitscrape.dataset.store import DatasetStore
from exitscrape.extensions.runlock import RunLock
from tests.conftest import FAST, HII, REPO, copy_site, crawl, report
from tests.extensions.test_publish_kill_and_lock import HANG, HangingServer, assert_intact

STOPPING = "stopping once the requests under way are answered"


class Crawl:
    """``exitscrape crawl`` in a subprocess whose stderr is read as it comes."""

    def __init__(self, url: str, data: Path, tmp: Path) -> None:
        tmp.mkdir()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "exitscrape", "crawl", "--start-url", url,
             "--data-dir", str(data), *FAST],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "TMPDIR": str(tmp)},
        )  # fmt: skip
        self.stderr: list[str] = []
        self.stopping = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            if STOPPING in line:
                self.stopping.set()

    def wait_stopping(self) -> None:
        """Until the crawl says it is stopping (a synchronisation, not a timing assertion)."""
        assert self.stopping.wait(120), "".join(self.stderr)

    def finish(self) -> int:
        self.proc.wait(120)
        self._reader.join(10)
        return self.proc.returncode


@pytest.fixture(scope="module")
def hanging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HangingServer, Path]]:
    """A hanging server over a copy of the snapshot, a data dir with a version of it, and a
    change to the site since."""
    root = tmp_path_factory.mktemp("interrupt")
    site, data = copy_site(root), root / "data"
    with HangingServer(site, HANG) as server:
        server.refuse_head = set()
        server.release.set()
        assert crawl(server.url, data).returncode == 0
        page = site / HII
        page.write_text(page.read_text().replace("HMPPS", "HMPPS, England and Wales"))
        yield server, data


@pytest.fixture
def published(hanging, tmp_path: Path) -> Iterator[tuple[HangingServer, Path, str]]:
    """A copy of the data dir for one test, the server holding its next request again."""
    server, data = hanging
    data = Path(shutil.copytree(data, tmp_path / "data"))
    (version,) = DatasetStore(data).versions()
    server.release.clear()
    server.hanging.clear()
    yield server, data, version
    server.release.set()


def assert_consistent(data: Path, version: str, tmp: Path) -> None:
    """The last version intact, no half version, the lock free, no temporary file anywhere."""
    assert_intact(data, version, 7)
    assert DatasetStore(data).versions() == [version]
    assert not [p.name for p in data.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    assert not list(tmp.iterdir())  # the records spool and every other temporary file: gone
    with RunLock(data):  # free
        pass


@pytest.mark.parametrize(("sent", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_interrupts_the_crawl_and_publishes_nothing(
    published, tmp_path: Path, sent: signal.Signals, status: int
) -> None:
    server, data, version = published
    run = Crawl(server.url, data, tmp_path / "tmp")
    server.hanging.wait(120)
    run.proc.send_signal(sent)
    run.wait_stopping()
    server.release.set()  # the request under way is answered; then the crawl stops
    assert run.finish() == status, "".join(run.stderr)
    stderr = "".join(run.stderr)
    assert f"interrupted by {sent.name}; nothing published" in stderr
    assert "--force" not in stderr and "Traceback" not in stderr
    assert "no programme page" not in stderr and "quality gate" not in stderr
    interrupted = report(data)
    assert interrupted["outcome"] == "interrupted" and interrupted["signal"] == sent.name
    assert interrupted["finish_reason"] == "shutdown" and interrupted["version"] is None
    assert interrupted["gates"] == []
    assert (data / ".lock").read_text() == ""  # released by the run, not only by its exit
    assert_consistent(data, version, tmp_path / "tmp")
    again = crawl(server.url, data)
    assert again.returncode == 0, again.stderr
    assert "published version" in again.stdout


def test_a_second_ctrl_c_stops_at_once_and_leaves_the_data_dir_consistent(
    published, tmp_path: Path
) -> None:
    server, data, version = published
    run = Crawl(server.url, data, tmp_path / "tmp")
    server.hanging.wait(120)
    run.proc.send_signal(signal.SIGINT)
    run.wait_stopping()
    run.proc.send_signal(signal.SIGINT)  # the held request is still unanswered
    assert run.finish() == 130, "".join(run.stderr)
    assert "stopping at once" in "".join(run.stderr)
    assert report(data)["outcome"] == "interrupted"
    assert_consistent(data, version, tmp_path / "tmp")
    server.release.set()
    again = crawl(server.url, data)
    assert again.returncode == 0, again.stderr
    assert "published version" in again.stdout

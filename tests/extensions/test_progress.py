"""Progress on a terminal, silence under cron: the crawl's output with and without a TTY."""

from __future__ import annotations

import io
from pathlib import Path

from exitscrape.extensions.progress import wanted
from exitscrape.snapshot.server import SNAPSHOT_DIR
from tests.conftest import FAST, FaultServer, cli_on_a_terminal, crawl


def test_progress_mode() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wanted("auto", Tty(), "WARNING")
    assert not wanted("auto", Tty(), "INFO")  # the log already talks
    assert not wanted("auto", io.StringIO(), "WARNING")  # cron, CI, scrapyd
    assert wanted("on", io.StringIO(), "DEBUG")
    assert not wanted("off", Tty(), "ERROR")


def crawl_on_a_terminal(url: str, data: Path, *extra: str) -> tuple[int, str, str]:
    """Run the crawl with stderr on a pseudo-terminal; return status, stdout, terminal output."""
    return cli_on_a_terminal("crawl", "--start-url", url, "--data-dir", str(data), *FAST, *extra)


def test_terminal_shows_progress_and_cron_gets_only_the_summary(tmp_path: Path) -> None:
    with FaultServer(SNAPSHOT_DIR) as server:
        server.statuses["/contact.html"] = [404]
        status, stdout, terminal = crawl_on_a_terminal(server.url, tmp_path / "a")
        assert status == 0
        assert "\r\x1b[K" in terminal
        final = terminal.split("\r\x1b[K")[-1].splitlines()[0]
        assert final.endswith("0 queued, 7 programmes found")
        # The progress line counts the pages the summary counts (not responses, robots.txt).
        pages = stdout.split(",")[0]
        assert pages == "pages: 36" and final.startswith("36 pages done,")
        assert "Failed" in terminal and "HTTP 404" in terminal  # warnings on a terminal
        for line in terminal.splitlines():  # ...each on a line of its own
            shown = line.rsplit("\r\x1b[K", 1)[-1]
            assert not ("programmes found" in shown and "WARNING" in shown), line
        assert stdout.startswith("pages: ")

        server.statuses["/contact.html"] = [404]  # the same answers: a quick check
        status, stdout, terminal = crawl_on_a_terminal(server.url, tmp_path / "a")
        assert status == 0 and "nothing parsed" in stdout
        final = terminal.split("\r\x1b[K")[-1].splitlines()[0]
        assert final == "quick check: 36 of 36 pages as before"

        server.statuses["/contact.html"] = [404]
        cron = crawl(server.url, tmp_path / "b")
        assert cron.returncode == 0
        assert cron.stderr == ""  # no progress, no warnings: cron mails nothing
        assert cron.stdout.splitlines()[0].startswith("pages: ")
        assert "failed pages: 1 (1 HTTP 404)" in cron.stdout
        assert "published version " in cron.stdout

        quiet = crawl(server.url, tmp_path / "c", "-q")
        assert quiet.returncode == 0 and quiet.stdout == quiet.stderr == ""

        status, stdout, terminal = crawl_on_a_terminal(server.url, tmp_path / "d", "-q")
        assert status == 0 and terminal == "" and stdout == ""

        verbose = crawl(server.url, tmp_path / "e", "-v")
        assert "INFO" in verbose.stderr and "pages done" not in verbose.stderr

"""Pages read in a second process (exitscrape/extraction/reader.py): the same readings as here,
nothing lost when the worker dies, nothing left behind when the crawl ends."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from exitscrape.dataset.store import DatasetStore
from exitscrape.extraction.reader import PageReader
from exitscrape.extraction.reading import Page, PageReading, read_page
from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteServer
from tests.conftest import crawl

URL = "http://127.0.0.1/healthy-identity-intervention-hii.html"
WHEN = datetime(2026, 11, 28, tzinfo=UTC)


def snapshot_page(name: str = "healthy-identity-intervention-hii.html") -> Page:
    text = (SNAPSHOT_DIR / name).read_text(encoding="utf-8")
    return Page(f"http://127.0.0.1/{name}", text, "utf-8", "html", WHEN)


async def ready(reader: PageReader, page: Page) -> PageReading:
    """Read *page* until the worker has started (the first reads are done here)."""
    reading = await reader.read(page, with_menu=True)
    for _ in range(3000):
        if reader.in_worker:
            return reading
        await asyncio.sleep(0.01)
    raise AssertionError("the worker never started")


def test_the_worker_reads_as_the_crawl_s_process_does() -> None:
    page = snapshot_page()
    here = read_page(page, with_menu=True)
    assert here.programme is not None and here.menu

    async def main() -> list[PageReading]:
        reader = PageReader(start_after=0)
        try:
            first = await ready(reader, page)
            assert reader.in_worker
            there = await reader.read(page, with_menu=True)
            index = await reader.read(snapshot_page("index.html"), with_menu=False)
            return [first, there, index]
        finally:
            reader.close()

    first, there, index = asyncio.run(main())
    assert first == here == there
    assert index == read_page(snapshot_page("index.html"), with_menu=False)
    assert index.programme is None and index.menu == [] and index.links


def test_no_worker_unless_asked_and_only_after_start_after_pages() -> None:
    async def main() -> tuple[bool, bool]:
        never, later = PageReader(), PageReader(start_after=5)
        for _ in range(3):
            await never.read(snapshot_page(), with_menu=False)
            await later.read(snapshot_page(), with_menu=False)
        await asyncio.sleep(0.5)
        return never.in_worker, later.in_worker

    assert asyncio.run(main()) == (False, False)


def test_a_worker_that_dies_loses_no_page(caplog: pytest.LogCaptureFixture) -> None:
    page = snapshot_page()

    async def main() -> PageReading:
        reader = PageReader(start_after=0)
        try:
            await ready(reader, page)
            for child in multiprocessing.active_children():  # killed (out of memory, say)
                child.kill()
                child.join()
            return await reader.read(page, with_menu=False)
        finally:
            reader.close()

    with caplog.at_level(logging.WARNING):
        reading = asyncio.run(main())
    assert reading == read_page(page, with_menu=False)  # read here instead
    assert "read in the crawl's process from now on" in caplog.text


def test_a_worker_that_cannot_start_loses_no_page(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_processes(*args: object, **kwargs: object) -> None:
        raise OSError("[Errno 38] Function not implemented: no semaphores here")

    monkeypatch.setattr("exitscrape.extraction.reader.ProcessPoolExecutor", no_processes)
    page = snapshot_page()

    async def main() -> list[PageReading]:
        reader = PageReader(start_after=0)
        return [await reader.read(page, with_menu=False) for _ in range(3)]

    with caplog.at_level(logging.WARNING):
        readings = asyncio.run(main())
    assert readings == [read_page(page, with_menu=False)] * 3
    assert "could not start (OSError" in caplog.text


def _workers() -> set[str]:
    listing = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in listing.splitlines() if "spawn_main" in line}


def test_a_crawl_read_in_the_worker_gives_the_same_data_and_leaves_no_process(
    crawled_snapshot: Path, session_snapshot_server: SiteServer, tmp_path: Path
) -> None:
    before = _workers()
    result = crawl(
        session_snapshot_server.url, tmp_path / "data", "-s", "EXITSCRAPE_READER_PROCESS_AFTER=0"
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert _workers() <= before  # the worker stopped with the crawl
    ours, theirs = DatasetStore(tmp_path / "data"), DatasetStore(crawled_snapshot)
    mine, reference = ours.manifest(str(ours.latest())), theirs.manifest(str(theirs.latest()))
    assert mine["programmes_digest"] == reference["programmes_digest"]  # the same programmes
    assert mine["pages_by_kind"] == reference["pages_by_kind"]

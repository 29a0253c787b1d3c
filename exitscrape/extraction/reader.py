"""Pages read beside the crawl: :func:`~exitscrape.extraction.reading.read_page` in a second
process.

Parsing a page and extracting its programme is about a third of what the crawl's process does
per page; the rest (Scrapy's downloads, scheduling, middlewares, items) cannot leave it. On a
machine with two cores or more, a :class:`PageReader` hands the reading to one worker process,
so the crawl's process only downloads and navigates while the pages are read on another core.

* The worker is started once the crawl has read ``start_after`` pages itself (a small crawl, or
  a rerun that reads a few changed pages, does not pay for starting it); pages that arrive
  before it is ready are read in the crawl's process, so the crawl never waits for it.
* A page whose reading raises is read in the worker as it would be here: the exception comes
  back and the spider records the page as failed.
* A worker that dies (killed, out of memory) loses nothing: the pages it was reading, and every
  page after them, are read in the crawl's process, with a warning.
* It ignores Ctrl-C (the crawl stops it when the spider closes) and is stopped, not left behind,
  when the crawl ends.

Settings: ``EXITSCRAPE_READER_PROCESS`` (false: every page is read in the crawl's process, as
on a single core) and ``EXITSCRAPE_READER_PROCESS_AFTER`` (``start_after``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from exitscrape.extraction.reading import Page, PageReading, read_page

logger = logging.getLogger(__name__)


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _ignore_interrupts() -> None:
    """In the worker: Ctrl-C is the crawl's to handle (it stops the worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ready() -> bool:
    """In the worker: nothing; run once, it shows the worker has started and imported this."""
    return True


class PageReader:
    """Reads pages in a worker process once it has read *start_after* pages itself; never when
    *start_after* is ``None`` (see the module docstring)."""

    def __init__(self, start_after: int | None = None) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._started: Future[bool] | None = None
        self._until_start = start_after  # pages to read here before the worker starts

    def _start(self) -> None:
        try:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                # A fresh interpreter: forking a process running threads and a reactor is unsafe.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_ignore_interrupts,
            )
            self._started = self._pool.submit(_ready)
        except Exception as error:  # no semaphores (/dev/shm), no processes left...
            self._stopped(error)

    def _stopped(self, error: BaseException) -> None:
        logger.warning(
            "The process reading pages stopped or could not start (%s: %s): pages are read in "
            "the crawl's process from now on",
            type(error).__name__,
            error,
        )
        self.close()

    @property
    def in_worker(self) -> bool:
        """Whether pages go to the worker now (it has started, and not died)."""
        started = self._started
        if self._pool is None or started is None or not started.done():
            return False
        if (error := started.exception()) is not None:  # it died as it started
            self._stopped(error)
            return False
        return True

    async def read(self, page: Page, with_menu: bool) -> PageReading:
        """*page* read, in the worker when it is ready, else here."""
        if not self.in_worker:
            if self._until_start is not None:
                self._until_start -= 1
                if self._until_start < 0:
                    self._until_start = None
                    self._start()
            return read_page(page, with_menu)
        assert self._pool is not None
        try:
            return await asyncio.wrap_future(self._pool.submit(read_page, page, with_menu))
        except BrokenProcessPool as error:
            if self._pool is not None:  # the first page to find it
                self._stopped(error)
            return read_page(page, with_menu)

    def close(self) -> None:
        """Stop the worker (it finishes the page in hand); pages are read here from now on."""
        pool, self._pool = self._pool, None
        self._until_start, self._started = None, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

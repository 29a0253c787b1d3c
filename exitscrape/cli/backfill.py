"""``exitscrape backfill``: the site's history from a web archive, a version per capture time."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO, TypeVar

from exitscrape.archive.backfill import (
    LOCK_NAME,
    STATE_FILE,
    Backfill,
    BackfillError,
    BackfillSpec,
    check_data_dir,
    crawl_command,
    published,
    read_state,
    run_crawl,
    write_state,
)
from exitscrape.archive.cdx import CdxClient, CdxError, Period, capture_times
from exitscrape.archive.replay import Archive, parse_at, parse_timestamp
from exitscrape.cli.options import add_data_dir, add_settings, parse_settings
from exitscrape.dataset.store import DatasetStore, resolve_data_dir
from exitscrape.extensions.runlock import LockBusy, RunLock
from exitscrape.spiders.scope import DEFAULT_START_URL, check_start_url

T = TypeVar("T")
PROG = "exitscrape backfill"
DEFAULT_PERIOD = "1m"
#: Lines of a failed crawl's output shown.
_SHOWN_LINES = 15
#: Exit statuses of a crawl stopped by a signal (``exitscrape crawl``'s, or the signal's own
#: when it ended the process) -> this command's.
_INTERRUPTED = {
    128 + signal.SIGINT: 128 + signal.SIGINT,
    128 + signal.SIGTERM: 128 + signal.SIGTERM,
    -signal.SIGINT: 128 + signal.SIGINT,
    -signal.SIGTERM: 128 + signal.SIGTERM,
}

EPILOG = f"""\
examples:
  exitscrape backfill --archive wayback --from 2019 --data-dir history/
  exitscrape backfill --archive http://127.0.0.1:8080/exit-practices/ --from 2019-06 \\
      --to 2021-03 --every 1w -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False

Each capture time is crawled by `exitscrape crawl --archive ARCHIVE --at TIME` (with this
command's --start-url, --data-dir, -s and --force); it publishes a version, named by the capture
time, when the programmes differ from the version before. Versions of a backfill sort by that
time (as_of), so a data dir must hold no version newer than --from: backfill into a new data
dir, then crawl the live site into it as usual. The plan and the capture times done are kept in
<data-dir>/{STATE_FILE}: after a failure or Ctrl-C, the same command continues where it stopped.

exit codes: 0 every capture time crawled; 1 no capture in the range, the CDX API unreadable, or
a crawl produced nothing usable; 2 bad usage, or a data dir that cannot take this backfill;
3 a crawl failed a quality gate (nothing published for it; rerun with --force to publish
anyway); 4 another backfill or crawl holds the data dir; 130 interrupted. On 1, 3 and 4 the
message names the capture time it stopped at; rerun the same command to resume.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "backfill",
        help="build the site's history from a web archive: a version per capture time",
        description="Ask a web archive's CDX API when the site's pages were captured between "
        "--from and --to, and crawl the site as the archive held it at the latest capture of "
        "each period (--every), oldest first, publishing a version for each whose programmes "
        "changed. Its as_of is the capture time; `exitscrape history`, versions, diff and "
        "release read across them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--archive",
        required=True,
        help="`wayback` (the Internet Archive) or a pywb / OpenWayback collection's replay URL",
    )
    parser.add_argument(
        "--cdx",
        metavar="URL",
        help="the archive's CDX API (default: the Wayback Machine's for `wayback`, else "
        "<archive>/cdx as pywb serves it)",
    )
    parser.add_argument(
        "--from",
        dest="start",
        required=True,
        metavar="DATE",
        help="first date (YYYY, YYYY-MM, YYYY-MM-DD, ISO 8601 or 14 digits; its first second)",
    )
    parser.add_argument(
        "--to", metavar="DATE", help="last date, included (its last second; default: now)"
    )
    parser.add_argument(
        "--every",
        default=DEFAULT_PERIOD,
        metavar="PERIOD",
        help=f"at most one capture time per period: 1d, 2w, 1m, 1y, ... "
        f"(default: {DEFAULT_PERIOD})",
    )
    parser.add_argument("--start-url", help=f"the site's start page (default: {DEFAULT_START_URL})")
    add_data_dir(parser)
    add_settings(parser)
    parser.add_argument(
        "--force", action="store_true", help="publish even when a crawl fails a quality gate"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the capture times it would crawl, and stop"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only errors: no progress, no results"
    )
    parser.set_defaults(func=run)


def _error(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _when(timestamp: str) -> str:
    return parse_timestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S UTC")


class Bar:
    """The backfill's progress on a terminal: one line, redrawn before and after each crawl."""

    WIDTH = 24

    def __init__(self, backfill: Backfill, stream: TextIO, shown: bool) -> None:
        self.backfill = backfill
        self.stream = stream
        self.shown = shown

    def draw(self, doing: str) -> None:
        if not self.shown:
            return
        total, done = len(self.backfill.plan), len(self.backfill.done)
        filled = self.WIDTH * done // total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r\x1b[Kbackfill [{bar}] {done}/{total} capture times; {doing}")
        self.stream.flush()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _parsed(option: str, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except ValueError as error:
        raise ValueError(f"{option}: {error}") from None


def _spec(args: argparse.Namespace) -> tuple[BackfillSpec, Archive, dict[str, str]]:
    """What the arguments ask for; :class:`ValueError` saying which one is wrong."""
    archive = _parsed("--archive", lambda: Archive.parse(args.archive, cdx=args.cdx))
    start = _parsed("--from", lambda: parse_at(args.start, end=False))
    end = _parsed("--to", lambda: parse_at(args.to)) if args.to else None
    period = _parsed("--every", lambda: Period.parse(args.every))
    start_url = _parsed("--start-url", lambda: check_start_url(args.start_url or DEFAULT_START_URL))
    settings = parse_settings(args.settings)
    if end is not None and end < start:
        raise ValueError(f"--to ({_when(end)}) is before --from ({_when(start)})")
    every = f"{period.count}{period.unit}"
    return BackfillSpec(archive.replay, start_url, start, end, every), archive, settings


def _plan(spec: BackfillSpec, archive: Archive, overrides: dict[str, str]) -> Backfill:
    """The capture times to crawl, asked of the CDX API as the crawls ask the archive: with the
    User-Agent, retries and back-off of the crawl's settings."""
    from scrapy.settings import Settings  # Scrapy only when a backfill runs

    settings = Settings()
    settings.setmodule("exitscrape.settings", priority="project")
    settings.update(overrides, priority="cmdline")
    client = CdxClient(
        archive.cdx,
        user_agent=settings["EXITSCRAPE_ARCHIVE_USER_AGENT"],
        retries=settings.getint("RETRY_TIMES"),
        backoff=settings.getfloat("EXITSCRAPE_ARCHIVE_BACKOFF"),
    )
    records = client.captures(spec.start_url, spec.start, spec.end)
    plan = capture_times(records, spec.start, spec.end, spec.every)
    if not plan:
        until = _when(spec.end) if spec.end else "now"
        raise CdxError(
            f"{archive.cdx} lists no capture of a page of {spec.start_url} from "
            f"{_when(spec.start)} to {until}: nothing to backfill"
        )
    return Backfill(spec, plan, datetime.now(UTC).isoformat(timespec="seconds"))


def run(args: argparse.Namespace) -> int:
    try:
        spec, archive, settings = _spec(args)
    except ValueError as error:
        _error(str(error))
        return 2
    data_dir = resolve_data_dir(args.data_dir).absolute()
    lock = RunLock(data_dir, LOCK_NAME)
    try:
        lock.acquire()
    except LockBusy as error:
        _error(str(error).replace("another run", "another backfill"))
        return 4
    except OSError as error:
        _error(f"cannot use the data dir {data_dir}: {error}")
        return 1
    try:
        return _backfill(args, spec, archive, settings, DatasetStore(data_dir))
    finally:
        lock.release()


def _backfill(
    args: argparse.Namespace,
    spec: BackfillSpec,
    archive: Archive,
    settings: dict[str, str],
    store: DatasetStore,
) -> int:
    say = (lambda line: None) if args.quiet else print
    try:
        backfill = read_state(store.root)
        if backfill is not None and backfill.spec != spec and backfill.remaining:
            raise BackfillError(
                f"another backfill is unfinished in {store.root} ({backfill.spec.archive}, "
                f"from {_when(backfill.spec.start)}, every {backfill.spec.every}; "
                f"{len(backfill.done)} of {len(backfill.plan)} capture times done): rerun it to "
                f"finish it, or remove {store.root / STATE_FILE} to give it up"
            )
        if backfill is not None and backfill.spec == spec:
            if not backfill.remaining:
                say(f"backfill: already done ({len(backfill.plan)} capture times); nothing to do")
                return 0
            done = f"{len(backfill.done)} of {len(backfill.plan)}"
            say(f"backfill: resuming: {done} capture times done")
        else:
            backfill = _plan(spec, archive, settings)
        check_data_dir(store, backfill)
    except BackfillError as error:
        _error(str(error))
        return 2
    except CdxError as error:
        _error(str(error))
        return 1
    if args.dry_run:
        for time in backfill.plan:
            print(f"{_when(time)}{'  (done)' if time in backfill.done else ''}")
        return 0
    write_state(store.root, backfill)
    bar = Bar(backfill, sys.stderr, shown=not args.quiet and sys.stderr.isatty())
    for time in backfill.remaining:
        position = f"{backfill.plan.index(time) + 1} of {len(backfill.plan)}"
        bar.draw(f"crawling as of {_when(time)}")
        try:
            result = run_crawl(crawl_command(backfill, time, store.root, args.settings, args.force))
        except KeyboardInterrupt:
            bar.clear()
            _error(f"interrupted at {_when(time)} ({position}); rerun the same command to resume")
            return 130
        bar.clear()
        if result.returncode in _INTERRUPTED:  # Ctrl-C reached the crawl, not this process
            # (a background job of a script ignores SIGINT; the crawl handles it regardless)
            _error(f"interrupted at {_when(time)} ({position}); rerun the same command to resume")
            return _INTERRUPTED[result.returncode]
        if result.returncode != 0:
            for line in (result.stderr or result.stdout).strip().splitlines()[-_SHOWN_LINES:]:
                print(f"  {line}", file=sys.stderr)
            _error(
                f"stopped at {_when(time)} ({position}): the crawl as of it failed (exit "
                f"{result.returncode}); rerun the same command to resume from it"
                + (", with --force to publish it anyway" if result.returncode == 3 else "")
            )
            return result.returncode if result.returncode in (1, 2, 3, 4) else 1
        version = published(store, time)
        backfill.done[time] = version
        write_state(store.root, backfill)
        if version is not None:
            rows = store.manifest(version).get("rows", {})
            say(f"{_when(time)}  published {version} ({rows.get('programmes')} programmes)")
        else:
            say(f"{_when(time)}  unchanged: the programmes equal {store.latest()}'s")
    bar.clear()
    versions = [v for v in backfill.done.values() if v]
    say(
        f"backfill done: {len(backfill.plan)} capture times crawled, {len(versions)} versions "
        f"published in {store.root}"
    )
    return 0

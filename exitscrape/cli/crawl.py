"""``exitscrape crawl``: run the spider, publish a version, print a summary, exit with a status."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import shlex
import signal
import sys
from datetime import datetime
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from exitscrape.archive.replay import Archive, parse_at
from exitscrape.cli.options import add_data_dir, add_settings, parse_settings
from exitscrape.cli.output import echo, echo_error, one_line, safe
from exitscrape.dataset.wording import plural
from exitscrape.extensions.outcome import SUMMARISED, Outcome, RunOutcome
from exitscrape.snapshot.server import SiteServer
from exitscrape.spiders.scope import DEFAULT_START_URL, check_start_url

if TYPE_CHECKING:
    from exitscrape.dataset.assemble import Disagreement

SETTINGS_MODULE = "exitscrape.settings"
# The bundled snapshot is served from this machine: no politeness needed, crawl at full speed.
SNAPSHOT_PORT = 8765
SNAPSHOT_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 8,
}
_SHOWN_PROBLEMS = 10

if TYPE_CHECKING:
    from scrapy.crawler import Crawler, CrawlerProcess


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "crawl",
        help="crawl the site and publish a dataset version",
        description="Crawl the Exit Practices site from its start page and publish the "
        "programmes as a new dataset version (nothing new when the data is unchanged). "
        "Polite by default on the live site: one request at a time, a 1 s delay, AutoThrottle. "
        "A rerun first asks again for the pages of the latest version (a quick check: "
        "304 Not Modified or the same body; sent straight to the site, as politely as the crawl, "
        "unless -s EXITSCRAPE_DIRECT_CHECK=False); it crawls and parses the site only when a "
        "page answers differently.",
        epilog="examples:\n"
        "  exitscrape crawl --snapshot                      # the bundled offline replica\n"
        "  exitscrape crawl                                 # the live site\n"
        "  exitscrape crawl --start-url http://127.0.0.1:8000/ -s DOWNLOAD_DELAY=0\n"
        "  exitscrape crawl --archive wayback --at 2020-06   # the site as the Wayback Machine\n"
        "                                                   # held it in June 2020\n"
        "\nexit codes: 0 published or unchanged, 1 nothing usable crawled, 2 bad usage,\n"
        "3 a quality gate failed or the crawl reached one of its bounds (nothing published;\n"
        "--force overrides a gate), "
        "4 another run holds the data dir's lock, 130 / 143 interrupted\n"
        "by Ctrl-C / SIGTERM (nothing published; a second Ctrl-C stops at once). Every run\n"
        "writes <data-dir>/runs/<run-id>.json (exitscrape runs).\n"
        "\nbounds (docs/scheduling.md): CLOSESPIDER_PAGECOUNT, CLOSESPIDER_TIMEOUT, DEPTH_LIMIT,\n"
        "EXITSCRAPE_MAX_LINKS_PER_PAGE; EXITSCRAPE_URL_TIMEOUT limits each URL's attempts.\n"
        "Scheduling (cron, systemd, CI, scrapyd): docs/scheduling.md\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--start-url", help=f"where to start (default: {DEFAULT_START_URL})")
    add_data_dir(parser)
    add_settings(parser)
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help=f"serve the bundled snapshot on 127.0.0.1:{SNAPSHOT_PORT} and crawl it "
        "(delays off, 8 requests at a time)",
    )
    parser.add_argument(
        "--archive",
        metavar="ARCHIVE",
        help="crawl the site as a web archive holds it: `wayback` (the Internet Archive) or a "
        "pywb / OpenWayback collection's replay URL (http://127.0.0.1:8080/my-collection/); "
        "each page is read from its capture nearest --at (README: Crawling the archived site)",
    )
    parser.add_argument(
        "--at",
        metavar="DATE",
        help="with --archive: the time to see the site as of, YYYY, YYYY-MM, YYYY-MM-DD, an ISO "
        "8601 date-time or 14 digits (a year or a month means its end); default: the newest "
        "captures",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="publish even if a quality gate fails (recorded in the manifest and run report)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="crawl the whole site even when a quick check would find it unchanged "
        "(after changing exitscrape's code, say; a new exitscrape version does it by itself)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more: -v progress of the crawl (INFO), -vv everything (DEBUG)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only errors: no progress, no summary"
    )
    parser.set_defaults(func=run)


def _log_level(args: argparse.Namespace) -> str:
    """On a terminal warnings show too (failed pages, say); under cron only errors do."""
    if args.quiet:
        return "ERROR"
    if args.verbose:
        return "INFO" if args.verbose == 1 else "DEBUG"
    return "WARNING" if sys.stderr.isatty() else "ERROR"


#: Scrapy's loggers whose errors are failed pages, which the summary lists (``-v`` shows them).
_PAGE_FAILURE_LOGGERS = frozenset({"scrapy.downloadermiddlewares.retry"})


def _for_the_summary(record: logging.LogRecord) -> bool:
    """Log messages, not tracebacks, and nothing the summary says again: Scrapy attaches a
    traceback to errors such as a DNS failure of robots.txt, logs a failed page as an ERROR
    before the summary lists it, and a run that cannot take the lock is reported once, by the
    summary's message."""
    record.exc_info = None
    record.exc_text = None
    return not (
        getattr(record, SUMMARISED, False)
        or (record.name in _PAGE_FAILURE_LOGGERS and record.levelno >= logging.ERROR)
    )


def _safe_record(record: logging.LogRecord) -> bool:
    """Log lines made safe for a terminal: URLs and headers in them may hold control
    characters (:mod:`exitscrape.cli.output`)."""
    record.msg, record.args = safe(record.getMessage()), None
    return True


def _filter_logs(quiet_log: bool) -> None:
    """Filter Scrapy's log handler: lines made safe, and (unless -v) what the summary says
    anyway left out."""
    for handler in logging.root.handlers:
        if quiet_log:
            handler.addFilter(_for_the_summary)
        handler.addFilter(_safe_record)


class Interrupts:
    """Ctrl-C and SIGTERM during a crawl, handled as Scrapy does (the first stops the crawl once
    the requests under way are answered, a second stops it at once) but remembering the first
    signal, which the run report names and the exit status tells (130, 143)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, process: CrawlerProcess, crawler: Crawler) -> None:
        self.process = process
        self.crawler = crawler
        self.signal: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        for number in self.SIGNALS:
            self._previous[number] = signal.signal(number, self._received)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _received(self, number: int, frame: FrameType | None) -> None:
        """The signal handler: it only schedules, the reactor does the work."""
        from twisted.internet import reactor

        first = self.signal is None
        if first:
            self.signal = signal.Signals(number).name
        reactor.callFromThread(self._stop if first else self._stop_now)

    def _stop(self) -> None:
        from exitscrape.extensions.publish import PublishExtension

        echo_error(
            ("\n" if sys.stderr.isatty() else "")  # below the progress line, if one is shown
            + f"exitscrape crawl: {self.signal}: stopping once the requests under way are "
            "answered, publishing nothing (again to stop at once)"
        )
        publish = self.crawler.get_extension(PublishExtension)
        if publish is not None:
            publish.outcome.signal = self.signal
        self.process.stop()

    def _stop_now(self) -> None:
        from twisted.internet import reactor

        echo_error("exitscrape crawl: stopping at once")
        with contextlib.suppress(RuntimeError):  # already stopping
            reactor.stop()  # type: ignore[misc]


def crawl(start_url: str | None, settings_overrides: dict[str, Any]) -> RunOutcome:
    """Run the spider in this process; return what the run produced."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", SETTINGS_MODULE)
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from exitscrape.extensions.publish import INTERRUPTED, PublishExtension

    settings = get_project_settings()
    for name, value in settings_overrides.items():
        settings.set(name, value, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("exit_practices")
    quiet_log = settings.get("LOG_LEVEL") not in ("DEBUG", "INFO")

    def filter_logs() -> None:
        _filter_logs(quiet_log)

    # Scrapy installs its log handler anew when the crawl starts: filter it from the spider's
    # opening on (this receiver runs before the extensions', which connect later).
    crawler.signals.connect(filter_logs, signal=signals.spider_opened, weak=False)
    process.crawl(crawler, start_url=start_url)
    # What is loaded by now (Scrapy, Twisted, lxml, pyarrow, the crawler) lives until the end:
    # out of the garbage collector's sight, its full collections during the crawl no longer walk
    # it again and again (a quick-check rerun of 1,000 pages: 0.07 s of 1.35 s, BENCHMARKS.md).
    gc.freeze()
    with Interrupts(process, crawler) as interrupts:
        process.start(install_signal_handlers=False)
    publish = crawler.get_extension(PublishExtension)
    if publish is None:
        raise RuntimeError("the crawl ran without exitscrape's publish extension")
    if interrupts.signal and not publish.closed:  # stopped at once: no spider_closed
        publish.outcome.signal = interrupts.signal
        publish.spider_closed(None, INTERRUPTED)
    return publish.outcome


def _snapshot_server() -> SiteServer:
    """The snapshot on its fixed port, so that repeated demo crawls see the same URLs (and
    publish nothing new); on any free port when another program holds that one."""
    try:
        return SiteServer(port=SNAPSHOT_PORT)
    except OSError:
        echo_error(
            f"exitscrape crawl: port {SNAPSHOT_PORT} is busy, serving the snapshot on another: "
            "its URLs differ from earlier snapshot crawls"
        )
        return SiteServer()


def _archive_line(run: RunOutcome) -> str:
    """Which archive the run read, as of when, and the captures it read."""
    source = run.source or {}
    captures = source.get("captures")
    line = f"archive: {one_line(source.get('archive'))}"
    if run.as_of:
        line += f" as of {run.as_of:%Y-%m-%d %H:%M:%S} UTC"
    if not isinstance(captures, dict):
        return line + " (no capture read)"
    first, last = (datetime.fromisoformat(captures[end]) for end in ("first", "last"))
    return line + f" (captures from {first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S} UTC)"


def _responses(run: RunOutcome) -> str:
    """How many responses the run got, and what they were: they outnumber the pages when a
    quick check asked for every page before the crawl, and robots.txt counts too."""
    quick_check = run.quick_check
    asked = "crawl"
    if quick_check is not None:
        asked = "quick check and crawl" if quick_check.changed else "quick check"
    if run.robots_txt:
        asked += ", robots.txt included"
    kinds = (
        (run.revalidated, "unchanged (304 Not Modified)"),
        (run.from_cache, "from the HTTP cache (confirmed by the quick check)"),
        (run.downloaded, "downloaded"),
    )
    parts = ", ".join(f"{n} {what}" for n, what in kinds if n) or "none"
    line = f"responses: {run.responses} ({asked}): {parts}"
    if quick_check is not None and quick_check.replayed:
        line += (
            f"; {plural(quick_check.replayed, 'page')} found unchanged replayed from the last "
            "crawl, not fetched again"
        )
    return line


def _disagreement(disagreement: Disagreement) -> list[str]:
    lines = [
        f"copies differ: {one_line(disagreement.name)} ({disagreement.programme_id}): kept "
        f"{one_line(disagreement.kept)} ({disagreement.why})"
    ]
    for copy in disagreement.copies:
        lines.append(f"  {one_line(copy.url)} differs in {', '.join(copy.fields)}")
    return lines


def summary(run: RunOutcome) -> str:
    reasons = ", ".join(f"{n} {one_line(reason)}" for reason, n in run.failed_by_reason.items())
    lines = [_archive_line(run)] if run.source else []
    lines += [
        f"pages: {run.pages}, programmes: {run.programmes}, failed pages: {run.failed_pages}"
        + (f" ({reasons})" if reasons else ""),
    ]
    if run.responses:
        lines.append(_responses(run))
    for problem in run.problems[:_SHOWN_PROBLEMS]:
        lines.append(f"  ! {one_line(problem)}")
    if len(run.problems) > _SHOWN_PROBLEMS:
        lines.append(f"  ! ... and {len(run.problems) - _SHOWN_PROBLEMS} more (see pages.parquet)")
    for disagreement in run.disagreements[:_SHOWN_PROBLEMS]:
        lines += _disagreement(disagreement)
    if len(run.disagreements) > _SHOWN_PROBLEMS:
        more = plural(len(run.disagreements) - _SHOWN_PROBLEMS, "programme")
        lines.append(f"copies differ: ... and {more} more (see the run report)")
    for gate in run.gates:
        if not gate.passed:
            lines.append(f"quality gate {gate.gate} FAILED: {one_line(gate.message)}")
    if run.forced:
        lines.append("--force: published despite the failed gates above")
    quick_check = run.quick_check
    if quick_check and quick_check.changed:
        lines.append(f"quick check: {one_line(quick_check.changed)}; crawled the site")
    if quick_check and quick_check.not_replayed:
        why = one_line(quick_check.not_replayed)
        lines.append(
            f"quick check: the last crawl's records were not used ({why}); crawled the pages "
            "found unchanged too"
        )
    for problem in run.damaged_latest[:_SHOWN_PROBLEMS]:
        lines.append(f"damaged: {one_line(problem)}")
    data_dir = run.data_dir.resolve()
    if run.outcome is Outcome.PUBLISHED and run.damaged_latest:
        lines.append(
            f"published version {run.version} in {data_dir}, past the damaged latest version "
            "(`exitscrape verify --all` checks every version)"
        )
    elif run.outcome is Outcome.PUBLISHED and run.first:
        lines += [
            f"published version {run.version}, the first, in {data_dir}",
            f"load it in Python: exitscrape.load(data_dir={str(data_dir)!r})",
            f"or look at it: exitscrape versions --data-dir {shlex.quote(str(data_dir))}",
        ]
    elif run.outcome is Outcome.PUBLISHED:
        lines.append(f"published version {run.version} in {data_dir}")
    elif run.outcome is Outcome.UNCHANGED and quick_check and not quick_check.changed:
        lines.append(
            f"unchanged: every page answered as it did for the latest version "
            f"({run.version}); nothing parsed, nothing published"
        )
    elif run.outcome is Outcome.UNCHANGED:
        lines.append(
            f"unchanged: the latest version ({run.version}) already holds this data; "
            "nothing published"
        )
    return "\n".join(lines)


def _archive_settings(args: argparse.Namespace) -> dict[str, str]:
    """The settings of archive mode (exitscrape/archive/addon.py) for --archive and --at."""
    if args.at and not args.archive:
        raise ValueError("--at needs --archive (the live site is only ever crawled as it is now)")
    if not args.archive:
        return {}
    try:
        archive = Archive.parse(args.archive)
    except ValueError as error:
        raise ValueError(f"--archive: {error}") from None
    try:
        at = parse_at(args.at) if args.at else ""
    except ValueError as error:
        raise ValueError(f"--at: {error}") from None
    return {"EXITSCRAPE_ARCHIVE": archive.replay, "EXITSCRAPE_ARCHIVE_AT": at}


def run(args: argparse.Namespace) -> int:
    from exitscrape.cli.overrides import check as overrides_check
    from exitscrape.cli.overrides import project_settings
    from exitscrape.dataset.quality import BOUNDS

    overrides: dict[str, Any] = {"LOG_LEVEL": _log_level(args)}
    if args.quiet:
        overrides["EXITSCRAPE_PROGRESS"] = "off"
    if args.force:
        overrides["EXITSCRAPE_FORCE"] = True
    if args.full:
        overrides["EXITSCRAPE_QUICK_CHECK"] = False
    if args.snapshot:
        overrides.update(SNAPSHOT_SETTINGS)
    try:
        overrides.update(_archive_settings(args))
        given = parse_settings(args.settings)
    except ValueError as error:
        echo_error(f"exitscrape crawl: {error}")
        return 2
    checked = overrides_check(given, project_settings(SETTINGS_MODULE))
    for line in checked.errors:
        echo_error(f"exitscrape crawl: {line}")
    if checked.errors:
        return 2
    for line in checked.warnings:
        echo_error(f"exitscrape crawl: warning: {line}")
    overrides.update(given)
    if args.data_dir:
        overrides["EXITSCRAPE_DATA_DIR"] = args.data_dir
    start_url = args.start_url
    if start_url:
        try:
            check_start_url(start_url)
        except ValueError as error:
            echo_error(f"exitscrape crawl: --start-url: {error}")
            return 2
    with contextlib.ExitStack() as stack:
        if args.snapshot:
            if start_url or args.archive:
                echo_error("exitscrape crawl: --snapshot excludes --start-url and --archive")
                return 2
            start_url = stack.enter_context(_snapshot_server()).url
        run = crawl(start_url, overrides)
    status = run.exit_code
    if run.outcome is Outcome.LOCKED:
        echo_error(f"exitscrape crawl: not started: {run.reason}")
        return status
    if run.outcome is Outcome.INTERRUPTED:
        echo_error(
            f"exitscrape crawl: {run.reason} (after {plural(run.requests, 'request')}); the "
            "data dir is as it was"
        )
        if run.report:
            echo_error(f"exitscrape crawl: run report: {run.report}")
        return status
    if not args.quiet or status:
        echo(summary(run), file=sys.stderr if status else sys.stdout)
    if status == 0:
        return 0
    reason = run.reason or "publishing did not complete (see the log above)"
    echo_error(f"exitscrape crawl: FAILED, nothing published: {one_line(reason)}")
    bound = BOUNDS.get(run.finish_reason or "")
    if run.outcome is Outcome.GATE_FAILED and bound:
        echo_error(
            f"exitscrape crawl: if the site really grew that much, raise {bound.setting} "
            f"(-s {bound.setting}=N; 0 turns the bound off)"
        )
    elif run.outcome is Outcome.GATE_FAILED:
        echo_error("exitscrape crawl: if the site really changed this much, rerun with --force")
    if run.report:
        echo_error(f"exitscrape crawl: run report: {run.report}")
    return status

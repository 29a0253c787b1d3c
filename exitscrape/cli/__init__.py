"""The ``exitscrape`` command line. Each subcommand lives in its own module of this package."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from exitscrape import __version__
from exitscrape.cli import (
    backfill,
    browse,
    crawl,
    diff,
    history,
    rebuild,
    release,
    runs,
    schema,
    show,
    verify,
    versions,
)
from exitscrape.cli.output import echo_error
from exitscrape.dataset.store import DatasetDamaged, DatasetError

#: Subcommand modules: each has ``add_parser(subparsers)`` that sets ``func`` to its runner.
COMMANDS = (
    crawl,
    backfill,
    diff,
    versions,
    show,
    history,
    runs,
    verify,
    rebuild,
    release,
    browse,
    schema,
)

EPILOG = """\
exit codes:
  0  success (a version was published, or the site was unchanged; rebuild: the
     programmes are the same)
  1  the crawl produced nothing usable; nothing was published (or a file could not be
     read or written; rebuild: the programmes differ)
  2  bad usage, or a dataset, version or programme that does not exist, or a release
     that cannot be built as asked (e.g. --out not empty)
  3  a quality gate failed, or the crawl reached one of its bounds; nothing was
     published (crawl --force publishes anyway)
  4  another run holds the data dir's lock; this run did nothing
  5  a file of a dataset version is damaged (exitscrape verify names every one)
  130, 143  interrupted by Ctrl-C (SIGINT), SIGTERM; a crawl published nothing, a
     backfill continues where it stopped when run again

data dir: --data-dir, else $EXITSCRAPE_DATA_DIR, else datasets/exit_programmes
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="exitscrape",
        description="Crawl the Exit Practices catalogue of exit programmes "
        "(www.exit-practices.eu) into versioned Parquet datasets.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"exitscrape {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    for subparser in subparsers.choices.values():
        subparser.set_defaults(parser=subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # the command's usage, not the top level's: `crawl --bogus` is crawl's mistake
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.func(args))
    except DatasetDamaged as error:
        echo_error(f"exitscrape: {error}")
        return verify.DAMAGED
    except DatasetError as error:
        echo_error(f"exitscrape: {error}")
        return 2
    except BrokenPipeError:
        # Output piped into a reader that stopped early (`exitscrape show X | head`): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a file that cannot be read or written: what, not a traceback
        echo_error(f"exitscrape: {error}")
        return 1
    except KeyboardInterrupt:
        echo_error("exitscrape: interrupted")
        return 130


def run() -> NoReturn:
    """The ``exitscrape`` command: :func:`main`, then exit without Python's teardown.

    When main() returns, everything is written, fsynced where it matters, and closed; the
    teardown would only free Scrapy's, Twisted's and pyarrow's objects one by one, 0.15-0.25 s of
    every run (a fifth of a quick-check rerun, BENCHMARKS.md). mypy ends the same way.
    """
    code = main()
    logging.shutdown()  # flush and close log handlers (Scrapy's LOG_FILE, say)
    for stream in (sys.stdout, sys.stderr):
        # A reader that went away (`exitscrape show X | head`), a closed stream: nothing to do.
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()

"""Options shared by several subcommands."""

from __future__ import annotations

import argparse
import os

from exitscrape.dataset.store import DATA_DIR_ENV, DEFAULT_DATA_DIR


def data_dir_path(value: str) -> str:
    """``--data-dir``: a path that is not empty and not a file (it need not exist yet)."""
    if not value:
        raise argparse.ArgumentTypeError("an empty path: name a directory, or leave --data-dir out")
    if os.path.exists(value) and not os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"{value} is a file, not a directory")
    return value


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return number


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=data_dir_path,
        help=f"dataset directory (default: ${DATA_DIR_ENV}, else {DEFAULT_DATA_DIR})",
    )


def add_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a Scrapy setting (repeatable), e.g. -s DOWNLOAD_DELAY=0",
    )


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """``-s NAME=VALUE`` pairs as a dict; :class:`ValueError` for one that is not."""
    overrides = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"-s expects NAME=VALUE, got {pair!r}")
        overrides[name.strip()] = value
    return overrides

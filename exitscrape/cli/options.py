"""Options shared by several subcommands."""

from __future__ import annotations

import argparse

from exitscrape.dataset.store import DATA_DIR_ENV, DEFAULT_DATA_DIR


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
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

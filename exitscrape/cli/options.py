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

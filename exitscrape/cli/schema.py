"""``exitscrape schema``: the data dictionary of the dataset's tables."""

from __future__ import annotations

import argparse
import json

from exitscrape.dataset.schema import SCHEMA_VERSION, TABLES, describe, markdown


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the data dictionary",
        description="Every column of every table with its type and meaning "
        f"(schema version {SCHEMA_VERSION}).",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.json:
        tables = {
            table: [{"name": n, "type": t, "description": d} for n, t, d in describe(schema)]
            for table, schema in TABLES.items()
        }
        print(json.dumps({"schema_version": SCHEMA_VERSION, "tables": tables}, indent=2))
    else:
        print(markdown(), end="")
    return 0

"""``exitscrape schema``: the data dictionary of the dataset's tables."""

from __future__ import annotations

import argparse

from exitscrape.cli.output import echo, json_text
from exitscrape.dataset.schema import SCHEMA_VERSION, TABLES, describe, markdown, pandas_type


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the data dictionary",
        description="Every column of every table with its type, its pandas dtype in "
        "exitscrape.load() (the same whatever the data) and its meaning "
        f"(schema version {SCHEMA_VERSION}).",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.json:
        tables = {
            table: [
                {"name": n, "type": t, "pandas_type": pandas_type(f.type), "description": d}
                for f, (n, t, d) in zip(schema, describe(schema), strict=True)
            ]
            for table, schema in TABLES.items()
        }
        echo(json_text({"schema_version": SCHEMA_VERSION, "tables": tables}))
    else:
        echo(markdown().rstrip("\n"))
    return 0

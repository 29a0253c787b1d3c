"""``exitscrape history NAME-OR-ID``: how one programme changed across the versions."""

from __future__ import annotations

import argparse
import json
from typing import Any

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.show import find
from exitscrape.dataset.diff import brief
from exitscrape.dataset.history import history
from exitscrape.dataset.store import DatasetStore, resolve_data_dir


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "history",
        help="show how one programme changed across the versions",
        description="Every version in which one programme appeared, changed, was renamed or\n"
        "disappeared, oldest first, with the time the site was so (as_of) and, for a change,\n"
        "each changed field's values before and after.\n\n"
        "NAME-OR-ID is matched as by `exitscrape show`, against each programme's id and its\n"
        "last name: first exactly, then as a prefix, then as a part of the name.",
        epilog="examples:\n"
        "  exitscrape history healthy-identity-intervention-hii-gb\n"
        '  exitscrape history "healthy identity" --json\n',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "query",
        metavar="NAME-OR-ID",
        help="programme_id or name (or its start, or a part of the name)",
    )
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = history(DatasetStore(resolve_data_dir(args.data_dir))).to_pylist()
    last = {row["programme_id"]: row for row in rows}  # rows are oldest first
    programme_id = find(list(last.values()), args.query)["programme_id"]
    mine = [row for row in rows if row["programme_id"] == programme_id]
    if args.json:
        print(json.dumps(mine, indent=2, ensure_ascii=False, default=str))
        return 0
    print(f"{last[programme_id]['name']}  [{programme_id}]")
    width = max(len(row["version"]) for row in mine)
    before: dict[str, Any] = {}
    for row in mine:
        when = row["as_of"].strftime("%Y-%m-%d %H:%M:%S")
        columns = f"  {', '.join(row['changed_columns'])}" if row["changed_columns"] else ""
        print(f"{when} UTC  {row['version']:<{width}}  {row['change']}{columns}")
        for name in row["changed_columns"]:
            print(f"    {name}: {brief(before.get(name))} -> {brief(row[name])}")
        before = row
    return 0

"""``exitscrape diff OLD NEW``: added, removed and changed programmes between two versions."""

from __future__ import annotations

import argparse
import json

from exitscrape.cli.options import add_data_dir
from exitscrape.dataset.diff import Diff, brief, diff_tables
from exitscrape.dataset.store import DatasetStore, resolve_data_dir


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="show what changed between two versions",
        description="Added, removed and changed programmes between two versions, naming each "
        "changed field. Versions are names (see the data dir), unambiguous prefixes or 'latest'.",
    )
    parser.add_argument("old", metavar="OLD", help="the older version")
    parser.add_argument("new", metavar="NEW", help="the newer version (e.g. latest)")
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the diff as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = DatasetStore(resolve_data_dir(args.data_dir))
    old, new = store.resolve(args.old), store.resolve(args.new)
    result = diff_tables(store.read("programmes", old), store.read("programmes", new))
    if args.json:
        print(
            json.dumps(
                {
                    "old": old,
                    "new": new,
                    "added": [r["programme_id"] for r in result.added],
                    "removed": [r["programme_id"] for r in result.removed],
                    "changed": {c.programme_id: sorted(c.fields) for c in result.changed},
                    "added_columns": result.added_columns,
                    "removed_columns": result.removed_columns,
                },
                indent=2,
            )
        )
        return 0
    print(f"{old} -> {new}")
    if result.empty:
        print("no differences")
    for line in lines(result):
        print(line)
    return 0


def lines(result: Diff) -> list[str]:
    """The differences, one line per programme or column (and one per changed field)."""
    out = []
    for row in result.added:
        out.append(f"+ added    {row['programme_id']}  ({row['name']})")
    for row in result.removed:
        out.append(f"- removed  {row['programme_id']}  ({row['name']})")
    for change in result.changed:
        out.append(f"~ changed  {change.programme_id}  ({change.name}): {', '.join(change.fields)}")
        for name, (before, after) in change.fields.items():
            out.append(f"    {name}: {brief(before)} -> {brief(after)}")
    out += [f"+ column   {column}" for column in result.added_columns]
    out += [f"- column   {column}" for column in result.removed_columns]
    return out

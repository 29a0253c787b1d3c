"""``exitscrape diff OLD NEW``: added, removed and changed programmes between two versions."""

from __future__ import annotations

import argparse

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo, json_text, one_line
from exitscrape.dataset.diff import Diff, describe_change, diff_tables
from exitscrape.dataset.store import DatasetStore, resolve_data_dir


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="show what changed between two versions",
        description="Added, removed and changed programmes between two versions, naming each "
        "changed field: a short value as old -> new, a list as its added (+) and removed (-) "
        "items, a long text word by word (like git diff --word-diff: the changed passages "
        "with some context, [-removed-]{+added+}, line breaks as ↵). --json gives the full old "
        "and new values. Versions are names (see the data dir), unambiguous prefixes or "
        "'latest'.",
    )
    parser.add_argument("old", metavar="OLD", help="the older version")
    parser.add_argument("new", metavar="NEW", help="the newer version (e.g. latest)")
    add_data_dir(parser)
    parser.add_argument(
        "--json", action="store_true", help="print the diff as JSON, with full old and new values"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = DatasetStore(resolve_data_dir(args.data_dir))
    old, new = store.resolve(args.old), store.resolve(args.new)
    result = diff_tables(store.read("programmes", old), store.read("programmes", new))
    if args.json:
        document = {
            "old": old,
            "new": new,
            "added": [r["programme_id"] for r in result.added],
            "removed": [r["programme_id"] for r in result.removed],
            "changed": {c.programme_id: c.as_json() for c in result.changed},
            "added_columns": result.added_columns,
            "removed_columns": result.removed_columns,
        }
        echo(json_text(document))
        return 0
    out = [f"{old} -> {new}"]
    if result.empty:
        out.append("no differences")
    echo(*out, *lines(result))
    return 0


def lines(result: Diff) -> list[str]:
    """The differences, one line per programme or column (and per changed field), terminal-safe
    (also what ``exitscrape rebuild`` prints)."""
    out = []
    for sign, what, rows in (("+", "added  ", result.added), ("-", "removed", result.removed)):
        out += [f"{sign} {what}  {row['programme_id']}  ({one_line(row['name'])})" for row in rows]
    for change in result.changed:
        out.append(
            f"~ changed  {change.programme_id}  ({one_line(change.name)}): "
            + ", ".join(change.fields)
        )
        for name, (before, after) in change.fields.items():
            described = [one_line(line) for line in describe_change(before, after)]
            if len(described) == 1:
                out.append(f"    {name}: {described[0]}")
            else:
                out += [f"    {name}:", *(f"      {line}" for line in described)]
    out += [f"+ column   {column}" for column in result.added_columns]
    out += [f"- column   {column}" for column in result.removed_columns]
    return out

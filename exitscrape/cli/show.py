"""``exitscrape show NAME-OR-ID``: one programme in full."""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from exitscrape.cli.options import add_data_dir
from exitscrape.dataset.store import DatasetError, DatasetStore, resolve_data_dir


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "show",
        help="print one programme in full",
        description="Print every field of one programme.\n\n"
        "NAME-OR-ID is matched case-insensitively against programme_id and name: first\n"
        "exactly, then as a prefix, then as a part of the name. It must pick out one\n"
        "programme; when several match, they are listed.",
        epilog="examples:\n"
        "  exitscrape show mentoring-programme-no\n"
        '  exitscrape show "healthy identity"\n'
        "  exitscrape show team --version 20261124T194846Z --json\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "query",
        metavar="NAME-OR-ID",
        help="programme_id or name (or its start, or a part of the name)",
    )
    parser.add_argument("--version", default="latest", help="dataset version (default: latest)")
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the programme as JSON")
    parser.set_defaults(func=run)


def find(rows: list[dict[str, Any]], query: str) -> dict[str, Any]:
    """The one row *query* names; :class:`DatasetError` when none or several match."""
    wanted = query.strip().casefold()
    if not wanted:
        raise DatasetError("give a programme_id or a name")
    steps = (
        lambda r: r["programme_id"].casefold() == wanted or r["name"].casefold() == wanted,
        lambda r: (
            r["programme_id"].casefold().startswith(wanted)
            or r["name"].casefold().startswith(wanted)
        ),
        lambda r: wanted in r["name"].casefold(),
    )
    for step in steps:
        matches = [r for r in rows if step(r)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = "\n".join(f"  {r['programme_id']}  ({r['name']})" for r in matches)
            raise DatasetError(f"{query!r} matches {len(matches)} programmes:\n{names}")
    raise DatasetError(
        f"no programme matches {query!r} (try `exitscrape show` with part of its name)"
    )


def _value(value: Any) -> list[str]:
    if value is None or value == []:
        return ["  (none)"]
    if isinstance(value, list):
        items = [f"{v['author']}, {v['year']}" if isinstance(v, dict) else str(v) for v in value]
        return [f"  - {item}" for item in items]
    lines = []
    for paragraph in str(value).split("\n"):
        lines += textwrap.wrap(
            paragraph, width=96, initial_indent="  ", subsequent_indent="  "
        ) or [""]
    return lines


def run(args: argparse.Namespace) -> int:
    store = DatasetStore(resolve_data_dir(args.data_dir))
    version = store.resolve(args.version)
    row = find(store.read("programmes", version).to_pylist(), args.query)
    if args.json:
        print(json.dumps(row, indent=2, ensure_ascii=False, default=str))
        return 0
    print(f"{row['name']}  [{row['programme_id']}]  (dataset version {version})")
    for name, value in row.items():
        print(f"\n{name}:")
        print("\n".join(_value(value)))
    return 0

"""``exitscrape show NAME-OR-ID``: one programme in full."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo, json_text, one_line
from exitscrape.dataset.diff import item_text
from exitscrape.dataset.store import DatasetError, DatasetStore, resolve_data_dir
from exitscrape.dataset.wording import plural


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
            names = "\n".join(f"  {r['programme_id']}  ({one_line(r['name'])})" for r in matches)
            raise DatasetError(f"{query!r} matches {plural(len(matches), 'programme')}:\n{names}")
    raise DatasetError(
        f"no programme matches {query!r} (try `exitscrape show` with part of its name)"
    )


def _value(value: Any) -> list[str]:
    if value is None or value == []:
        return ["  (none)"]
    if isinstance(value, list):
        return [f"  - {one_line(item_text(v))}" for v in value]
    lines = []
    for paragraph in str(value).split("\n"):
        # "terrorism-related" stays whole: a line never ends at a hyphen inside a word.
        lines += textwrap.wrap(
            one_line(paragraph),
            width=96,
            initial_indent="  ",
            subsequent_indent="  ",
            break_on_hyphens=False,
        ) or [""]
    return lines


def run(args: argparse.Namespace) -> int:
    store = DatasetStore(resolve_data_dir(args.data_dir))
    version = store.resolve(args.version)
    row = find(store.read("programmes", version).to_pylist(), args.query)
    if args.json:
        echo(json_text(row))
        return 0
    lines = [f"{one_line(row['name'])}  [{row['programme_id']}]  (dataset version {version})"]
    for name, value in row.items():
        lines += ["", f"{name}:", *_value(value)]
    echo(*lines)
    return 0

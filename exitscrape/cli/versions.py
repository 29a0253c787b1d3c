"""``exitscrape versions``: every dataset version with its date, row counts and changes."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from exitscrape.cli.options import add_data_dir
from exitscrape.cli.output import echo, echo_error, json_text, one_line
from exitscrape.cli.verify import DAMAGED
from exitscrape.dataset.diff import diff_tables
from exitscrape.dataset.store import DatasetDamaged, DatasetError, DatasetStore, resolve_data_dir
from exitscrape.release import read_registry

if TYPE_CHECKING:
    import pyarrow as pa


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "versions",
        help="list dataset versions with dates, row counts and what changed",
        description="List the dataset versions, oldest first: when each was published, its "
        "programme and page counts, failed pages, what changed against the version before it "
        "(+added -removed ~changed programmes, +/- columns) and the release built from it. "
        "The latest version is marked with *; a damaged one says DAMAGED (exit 5).",
    )
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.set_defaults(func=run)


def version_rows(store: DatasetStore) -> list[dict[str, Any]]:
    """One dict per version, oldest first, with its changes against the one before (``None``
    for the first, and after a damaged one); a damaged version's row says why in ``damaged``."""
    releases = {r["dataset_version"]: r["release"] for r in read_registry(store)}
    rows: list[dict[str, Any]] = []
    previous: pa.Table | None = None
    for version in store.versions():
        try:
            manifest = store.manifest(version)
            table = store.read("programmes", version)
        except DatasetDamaged as error:
            rows.append({"version": version, "damaged": str(error), "changes": None})
            previous = None
            continue
        changes = None
        if previous is not None:
            d = diff_tables(previous, table)
            changes = {
                "added": len(d.added),
                "removed": len(d.removed),
                "changed": len(d.changed),
                "added_columns": d.added_columns,
                "removed_columns": d.removed_columns,
            }
        rows.append(
            {
                "version": version,
                "created_at": manifest.get("created_at"),
                "as_of": manifest.get("as_of"),  # crawled from a web archive: as of when
                "programmes": manifest.get("rows", {}).get("programmes", table.num_rows),
                "pages": manifest.get("rows", {}).get("pages"),
                "failed_pages": manifest.get("pages_by_kind", {}).get("failed", 0),
                "schema_version": manifest.get("schema_version"),
                "changes": changes,
                "release": releases.get(version),
                "damaged": None,
            }
        )
        previous = table
    return rows


def _changes(changes: dict[str, Any] | None, first: bool) -> str:
    if changes is None:
        return "(first)" if first else "?"
    text = f"+{changes['added']} -{changes['removed']} ~{changes['changed']}"
    columns = [f"+{c}" for c in changes["added_columns"]]
    columns += [f"-{c}" for c in changes["removed_columns"]]
    return text + (f" columns {' '.join(columns)}" if columns else "")


def _time(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ")


def run(args: argparse.Namespace) -> int:
    store = DatasetStore(resolve_data_dir(args.data_dir))
    rows = version_rows(store)
    if not rows:
        raise DatasetError(f"no dataset in {store.root}: run `exitscrape crawl` first")
    if args.json:
        echo(json_text(rows))
    else:
        _print_table(rows, store.latest())
    problem = store.latest_problem()
    if problem:
        echo_error(f"exitscrape: {store.root / 'LATEST'} {problem}")
    damaged = [row["damaged"] for row in rows if row["damaged"]]
    for message in damaged:
        echo_error(f"exitscrape: {message}")
    return DAMAGED if damaged else 0


def _print_table(rows: list[dict[str, Any]], latest: str | None) -> None:
    def cells(name: str, value: Any) -> list[str]:
        """One column's cells; a damaged version's row is empty but for its name and DAMAGED."""
        return [
            ("DAMAGED" if name == "created_at" else "") if r["damaged"] else one_line(value(r, i))
            for i, r in enumerate(rows)
        ]

    archived = any(r.get("as_of") for r in rows)  # a backfill's: name the times they show
    columns: list[tuple[str, list[str], bool]] = [  # header, cells, right-aligned
        (
            "  version",
            [("* " if r["version"] == latest else "  ") + one_line(r["version"]) for r in rows],
            False,
        ),
        ("created (UTC)", cells("created_at", lambda r, i: _time(r["created_at"])), False),
        *(
            [("as of (UTC)", cells("as_of", lambda r, i: _time(r["as_of"])), False)]
            if archived
            else []
        ),
        ("programmes", cells("programmes", lambda r, i: r["programmes"]), True),
        ("pages", cells("pages", lambda r, i: r["pages"] if r["pages"] is not None else ""), True),
        ("failed", cells("failed", lambda r, i: r["failed_pages"]), True),
        ("changes", cells("changes", lambda r, i: _changes(r["changes"], i == 0)), False),
        ("release", cells("release", lambda r, i: r["release"] or ""), False),
    ]
    widths = [max(len(header), *map(len, column)) for header, column, _ in columns]
    lines = []
    for i in range(-1, len(rows)):
        line = [
            (header if i < 0 else column[i]).rjust(width)
            if right
            else (header if i < 0 else column[i]).ljust(width)
            for (header, column, right), width in zip(columns, widths, strict=True)
        ]
        lines.append("  ".join(line).rstrip())
    echo(*lines, "changes: against the version before (+added -removed ~changed programmes)")

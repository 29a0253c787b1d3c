"""The history of every programme across a data dir's versions.

One row per programme per version in which it first appeared (``added``), changed
(``changed``, or ``renamed`` when its name changed at the same URL) or disappeared
(``removed``), with its values in that version: the ``item_version`` table of git-history,
with full values (its ``--full-versions``) and the changed columns named in each row.

Versions are taken in the order of their ``as_of`` (the capture time of an archive crawl, else
the time they were published), so a backfill of older captures into a data dir that already
has later crawls reads in the site's order. Programmes are followed across renames with
:func:`exitscrape.dataset.identity.carry_ids`, also in versions published before ids were
carried.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from exitscrape.dataset.diff import diff_tables
from exitscrape.dataset.identity import carry_ids
from exitscrape.dataset.schema import HISTORY
from exitscrape.dataset.store import DatasetError, DatasetStore


def as_of(manifest: dict[str, Any]) -> datetime:
    """When the site was as a version has it: its manifest's ``as_of``, else ``created_at``."""
    value = manifest.get("as_of") or manifest.get("created_at")
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise DatasetError(
            f"version {manifest.get('version')}: {value!r} is not an ISO 8601 time"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _row(
    values: dict[str, Any], version: str, when: datetime, change: str, columns: list[str]
) -> dict[str, Any]:
    return {
        **values,
        "version": version,
        "as_of": when,
        "change": change,
        "changed_columns": columns,
    }


def history_rows(versions: Iterable[tuple[str, datetime, pa.Table]]) -> Iterator[dict[str, Any]]:
    """History rows of ``(version, as_of, programmes)`` taken in the order given."""
    previous: pa.Table | None = None
    for version, when, table in versions:
        table = carry_ids(table, previous)
        if previous is None:
            for values in table.to_pylist():
                yield _row(values, version, when, "added", [])
        else:
            current = {row["programme_id"]: row for row in table.to_pylist()}
            diff = diff_tables(previous, table)
            rows = [_row(values, version, when, "added", []) for values in diff.added]
            rows += [_row(values, version, when, "removed", []) for values in diff.removed]
            for change in diff.changed:
                kind = "renamed" if "name" in change.fields else "changed"
                columns = sorted(change.fields)
                rows.append(_row(current[change.programme_id], version, when, kind, columns))
            yield from sorted(rows, key=lambda row: row["programme_id"])
        previous = table


def history(store: DatasetStore, until: str | None = None) -> pa.Table:
    """The history table (schema :data:`~exitscrape.dataset.schema.HISTORY`) of *store*'s
    versions in ``as_of`` order: all of them, or up to and including the version *until*."""
    last = store.resolve(until or "latest")  # a clear error for a data dir with no version
    timeline = sorted((as_of(store.manifest(v)), v) for v in store.versions())
    if until is not None:
        end = next(i for i, (_, version) in enumerate(timeline) if version == last)
        timeline = timeline[: end + 1]
    rows = history_rows((v, when, store.read("programmes", v)) for when, v in timeline)
    return pa.Table.from_pylist(
        [{name: row.get(name) for name in HISTORY.names} for row in rows], schema=HISTORY
    )

"""Differences between two versions' programmes: added, removed, and changed fields."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from exitscrape.dataset.schema import VOLATILE_COLUMNS

#: Derived columns: they change exactly when other fields do, so naming them adds nothing.
_DERIVED = frozenset({"content_sha256"})


@dataclass
class Change:
    programme_id: str
    name: str
    fields: dict[str, tuple[Any, Any]]


@dataclass
class Diff:
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    removed_columns: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.added or self.removed or self.changed or self.added_columns or self.removed_columns
        )


def brief(value: object, width: int = 70) -> str:
    """A field value shortened to one line, for showing a change."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return textwrap.shorten(text, width=width, placeholder=" …")


def diff_tables(old: pa.Table, new: pa.Table) -> Diff:
    """Compare programme tables by ``programme_id``."""
    old_rows = {row["programme_id"]: row for row in old.to_pylist()}
    new_rows = {row["programme_id"]: row for row in new.to_pylist()}
    ignored = VOLATILE_COLUMNS | _DERIVED
    result = Diff(
        added=[new_rows[k] for k in sorted(new_rows.keys() - old_rows.keys())],
        removed=[old_rows[k] for k in sorted(old_rows.keys() - new_rows.keys())],
        added_columns=[n for n in new.schema.names if n not in old.schema.names],
        removed_columns=[n for n in old.schema.names if n not in new.schema.names],
    )
    for key in sorted(old_rows.keys() & new_rows.keys()):
        before, after = old_rows[key], new_rows[key]
        fields = {
            name: (before.get(name), after.get(name))
            for name in new.schema.names
            if name not in ignored and name in before and before.get(name) != after.get(name)
        }
        if fields:
            result.changed.append(Change(key, after["name"], fields))
    return result

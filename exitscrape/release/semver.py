"""Release numbers: semantic versioning for data, from the diff against the previous release.

The Frictionless "Data Package Version" rules, as this project applies them: a schema change
(a column added, removed or retyped) is **major**, added or removed programmes are **minor**,
corrected values of existing programmes are a **patch**. The first release is 1.0.0.
"""

from __future__ import annotations

from exitscrape.dataset.diff import Diff

FIRST = "1.0.0"


def change_level(diff: Diff, schema_changed: bool) -> str:
    """``major``, ``minor`` or ``patch`` for the changes in *diff*."""
    if schema_changed or diff.added_columns or diff.removed_columns:
        return "major"
    if diff.added or diff.removed:
        return "minor"
    return "patch"


def bump(previous: str, level: str) -> str:
    major, minor, patch = (int(part) for part in previous.split("."))
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"

"""A release's CHANGELOG section, written from the diff against the previous release.

Values from the data are Markdown-escaped (:mod:`exitscrape.release.markdown`); a changed field
is shown as ``exitscrape diff`` shows it (:func:`~exitscrape.dataset.diff.describe_change`: a long
text word by word), each line in a code span.
"""

from __future__ import annotations

from typing import Any

from exitscrape.dataset.diff import Diff, describe_change
from exitscrape.dataset.wording import plural
from exitscrape.release.markdown import code, text

LEVELS = {
    "major": "major release: the schema changed (columns added, removed or retyped)",
    "minor": "minor release: programmes were added or removed",
    "patch": "patch release: values of existing programmes were corrected or updated",
}


def _programme(row: dict[str, Any]) -> str:
    country = f" ({text(row['country'])})" if row.get("country") else ""
    return f"- {code(row['programme_id'])}: {text(row['name'])}{country}"


def section(
    release: str,
    date: str,
    dataset_version: str,
    programmes: list[dict[str, Any]],
    previous: dict[str, Any] | None = None,
    diff: Diff | None = None,
    level: str | None = None,
    schema_versions: tuple[str, str] | None = None,
) -> str:
    """Markdown for one release; *previous* is the previous release's registry entry."""
    lines = [f"## {release} ({date})", ""]
    if previous is None or diff is None:
        lines += [
            f"First release, from dataset version `{dataset_version}`: "
            f"{plural(len(programmes), 'programme')}.",
            "",
            *(_programme(row) for row in programmes),
        ]
        return "\n".join(lines) + "\n"
    lines += [
        f"From dataset version `{dataset_version}`, compared with release {previous['release']} "
        f"(dataset version `{previous['dataset_version']}`): {LEVELS[level or 'patch']}.",
        "",
    ]
    if diff.empty:
        lines += ["No programme changed.", ""]
    if schema_versions and schema_versions[0] != schema_versions[1]:
        lines += [f"Schema version {schema_versions[0]} → {schema_versions[1]}.", ""]
    if diff.added_columns or diff.removed_columns:
        lines += ["### Columns", ""]
        lines += [f"- added `{name}`" for name in diff.added_columns]
        lines += [f"- removed `{name}`" for name in diff.removed_columns]
        lines.append("")
    for title, rows in (("Added programmes", diff.added), ("Removed programmes", diff.removed)):
        if rows:
            lines += [f"### {title} ({len(rows)})", "", *(_programme(row) for row in rows), ""]
    if diff.changed:
        lines += [f"### Changed programmes ({len(diff.changed)})", ""]
        for change in diff.changed:
            lines.append(
                f"- {code(change.programme_id)}: {text(change.name)}: "
                + ", ".join(f"`{name}`" for name in change.fields)
            )
            for name, (before, after) in change.fields.items():
                described = describe_change(before, after)
                if len(described) == 1:
                    lines.append(f"  - `{name}`: {code(described[0])}")
                else:
                    lines += [f"  - `{name}`:", *(f"    - {code(line)}" for line in described)]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def changelog(sections: list[str]) -> str:
    """The whole CHANGELOG.md: newest release first."""
    return "# Changelog\n\n" + "\n".join(sections)

"""Differences between two versions' programmes: added, removed, and changed fields.

A changed field is shown as a reader can follow it: a short value whole (old → new), a list as
the items added and removed, a long text word by word, as ``git diff --word-diff`` does: only the
changed passages, each with a few words of context, ``[-removed-]`` and ``{+added+}``.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from exitscrape.dataset.schema import VOLATILE_COLUMNS

#: Derived columns: they change exactly when other fields do, so naming them adds nothing.
_DERIVED = frozenset({"content_sha256"})
#: A text longer than this (or on several lines) is shown word by word, not whole.
SHORT_TEXT = 80
#: Words of context around each changed passage of a long text.
CONTEXT_WORDS = 6
#: Texts longer than this many words are compared line by line (each line shortened), and not
#: at all beyond this many lines: the comparison's cost grows with the product of the lengths,
#: and a hostile page may hold megabytes of text.
MAX_TOKENS = 10_000
#: How a line break shows in a word diff (the diff is on one line).
_BREAK = "↵"
_TOKENS = re.compile(r"\n|[^\s]+")


@dataclass
class Change:
    programme_id: str
    name: str
    fields: dict[str, tuple[Any, Any]]  # name -> (old value, new value)

    def as_json(self) -> dict[str, dict[str, Any]]:
        """Every changed field's full old and new values (and a list's added and removed
        items)."""
        result = {}
        for name, (old, new) in self.fields.items():
            entry: dict[str, Any] = {"old": old, "new": new}
            if isinstance(old, list) or isinstance(new, list):
                entry["added"], entry["removed"] = list_changes(old, new)
            result[name] = entry
        return result


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
    text = "(none)" if value is None else json.dumps(value, ensure_ascii=False)
    return textwrap.shorten(text, width=width, placeholder=" …")


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def word_diff(old: str, new: str, context: int = CONTEXT_WORDS) -> list[str]:
    """The passages where *new* differs from *old*, word by word, one line each:
    ``… some words [-removed-]{+added+} more words …`` (line breaks shown as ``↵``). Beyond
    :data:`MAX_TOKENS` words, line by line (``[-line-]{+line+}``, each line shortened)."""
    before, after = _tokens(old), _tokens(new)
    if max(len(before), len(after)) > MAX_TOKENS:
        before, after = old.split("\n"), new.split("\n")
        if max(len(before), len(after)) > MAX_TOKENS:
            return [f"{brief(old)} → {brief(new)} (too long to compare)"]
        before = [textwrap.shorten(line, 60, placeholder=" …") or _BREAK for line in before]
        after = [textwrap.shorten(line, 60, placeholder=" …") or _BREAK for line in after]
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)

    def words(tokens: list[str]) -> str:
        return " ".join(_BREAK if t == "\n" else t for t in tokens)

    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        parts = ["…"] if group[0][1] > 0 or group[0][3] > 0 else []
        for op, i1, i2, j1, j2 in group:
            if op == "equal":
                parts.append(words(before[i1:i2]))
                continue
            if i2 > i1:
                parts.append(f"[-{words(before[i1:i2])}-]")
            if j2 > j1:
                parts.append(f"{{+{words(after[j1:j2])}+}}")
        if group[-1][2] < len(before) or group[-1][4] < len(after):
            parts.append("…")
        hunks.append(" ".join(parts).replace("-] {+", "-]{+"))
    return hunks


def item_text(value: Any) -> str:
    """One item of a list field, in words: a reference as ``author, year``, a differing copy as
    ``url (differs in fields)``."""
    if isinstance(value, dict) and {"author", "year"} <= value.keys():
        return f"{value['author']}, {value['year']}"
    if isinstance(value, dict) and {"url", "fields"} <= value.keys():
        return f"{value['url']} (differs in {', '.join(value['fields'])})"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def list_changes(old: list[Any] | None, new: list[Any] | None) -> tuple[list[Any], list[Any]]:
    """The items of *new* not in *old* (added) and of *old* not in *new* (removed), in order."""
    old, new = old or [], new or []
    old_keys, new_keys = {_key(v) for v in old}, {_key(v) for v in new}
    return [v for v in new if _key(v) not in old_keys], [v for v in old if _key(v) not in new_keys]


def _is_short(value: object) -> bool:
    return not isinstance(value, str) or (len(value) <= SHORT_TEXT and "\n" not in value)


def describe_change(old: Any, new: Any) -> list[str]:
    """A changed value as lines a reader can follow: ``old → new`` for a short value, ``+ item``
    / ``- item`` for a list, the changed passages of a long text (:func:`word_diff`)."""
    if isinstance(old, list) or isinstance(new, list):
        added, removed = list_changes(old, new)
        return [f"+ {item_text(v)}" for v in added] + [f"- {item_text(v)}" for v in removed]
    if isinstance(old, str) and isinstance(new, str) and not (_is_short(old) and _is_short(new)):
        return word_diff(old, new)
    return [f"{brief(old)} → {brief(new)}"]


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

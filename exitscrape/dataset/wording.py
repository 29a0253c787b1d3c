"""How a count reads in messages, summaries and documents: "1 page", "2 pages"."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """*count* and *noun*, in the plural (*nouns*, else *noun* + "s") unless *count* is 1."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"

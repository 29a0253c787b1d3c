"""Text cleanup for every value extraction hands over: NFC, no invisible characters, whitespace
collapsed."""

from __future__ import annotations

import unicodedata

# Zero-width and formatting characters Weebly leaves in text (ZWSP, ZWNJ, ZWJ, word joiner,
# BOM, soft hyphen). They carry no meaning and break equality of otherwise identical strings.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def clean_text(value: str | None) -> str | None:
    """NFC, no invisible characters, whitespace collapsed; ``None`` when nothing is left."""
    if value is None:
        return None
    if not value.isascii():  # ASCII is already NFC and holds no invisible characters
        value = unicodedata.normalize("NFC", value).translate(_INVISIBLE)
    # Every run of Unicode whitespace (NBSP, thin spaces included) becomes one space.
    return " ".join(value.split()) or None


def label_key(value: str) -> str:
    """Comparable form of a label: cleaned, case-folded, without a trailing colon."""
    return (clean_text(value) or "").rstrip(" :：").casefold()

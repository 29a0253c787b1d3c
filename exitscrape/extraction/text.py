"""Text cleanup for every value extraction hands over: NFC, no invisible or control characters,
whitespace collapsed."""

from __future__ import annotations

import re
import unicodedata

# Zero-width and formatting characters Weebly leaves in text (ZWSP, ZWNJ, ZWJ, word joiner,
# BOM, soft hyphen). They carry no meaning and break equality of otherwise identical strings.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# Control characters that are not whitespace (C0, DEL, C1): never text, and a terminal showing
# the data would act on them (an ESC sequence retitles the window or clears the screen). The
# whitespace ones (tab, line breaks, NEL, the separators) become a space with the other spaces.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")
#: Every control character (C0, DEL, C1), for showing text to a person.
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def clean_text(value: str | None) -> str | None:
    """NFC, no invisible or control characters, whitespace collapsed; ``None`` when nothing is
    left."""
    if value is None:
        return None
    if value.isascii():
        # The common case, without a regular expression over the text: the control characters
        # removed below are never whitespace, so none is left after collapsing whitespace when
        # every character left is printable.
        collapsed = " ".join(value.split())
        if collapsed.isprintable():
            return collapsed or None
    value = _CONTROL.sub("", value)
    if not value.isascii():  # ASCII is already NFC and holds no invisible characters
        value = unicodedata.normalize("NFC", value).translate(_INVISIBLE)
    # Every run of Unicode whitespace (NBSP, thin spaces included) becomes one space.
    return " ".join(value.split()) or None


def escape_controls(text: str, keep: str = "") -> str:
    """*text* with every control character but those in *keep* shown as an escape (``\\x1b``):
    for text shown on a terminal or in a document, where it would act (see
    :mod:`exitscrape.cli.output`)."""

    def escaped(match: re.Match[str]) -> str:
        char = match.group()
        return char if char in keep else f"\\x{ord(char):02x}"

    return _ANY_CONTROL.sub(escaped, text)


def label_key(value: str) -> str:
    """Comparable form of a label: cleaned, case-folded, without a trailing colon."""
    return (clean_text(value) or "").rstrip(" :：").casefold()

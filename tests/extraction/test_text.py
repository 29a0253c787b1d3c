"""Text cleanup: the rules extraction and normalisation rely on."""

from __future__ import annotations

import sys

from exitscrape.extraction.text import clean_text, escape_controls

SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]


def test_every_unicode_space_run_becomes_one_space() -> None:
    assert "\u00a0" in SPACES and "\u2009" in SPACES and "\u3000" in SPACES
    for space in SPACES:
        assert clean_text(f"{space}a{space}{space}b\t{space}") == "a b", repr(space)


def test_invisible_characters_go_and_text_is_nfc() -> None:
    assert clean_text("\ufeffEx\u200bit\u00ad \u2060e\u0301") == "Exit \u00e9"
    assert clean_text("\u200b \u00a0") is None
    assert clean_text("") is None and clean_text(None) is None
    assert clean_text("  plain ASCII\n text ") == "plain ASCII text"


def test_clean_text() -> None:
    assert clean_text("  Ministry\u00a0of\u200b Justice\ufeff \n") == "Ministry of Justice"
    assert clean_text("Entre\u0301") == "Entré"  # decomposed é -> NFC
    assert clean_text("\u200b \u00a0") is None
    assert clean_text(None) is None


def test_control_characters_are_dropped_and_shown_escaped() -> None:
    # ESC sequences (retitle the window, clear the screen), BEL, NUL, DEL and a C1 CSI: gone.
    hostile = "Team\x1b]0;pwned\x07 TER\x1b[2J\x00\x7f \x9b2Jok"
    assert clean_text(hostile) == "Team]0;pwned TER[2J 2Jok"
    assert clean_text("a\x1cb\x85c\x0bd") == "a b c d"  # whitespace controls are spaces
    assert clean_text("\x1b\x07") is None
    assert clean_text(" a \x01 b\x7fc ") == "a bc"  # ASCII text: the same, without a regex
    assert escape_controls("a\x1b[2J\nb\t", keep="\n") == "a\\x1b[2J\nb\\x09"

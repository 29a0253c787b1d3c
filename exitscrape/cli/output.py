"""What the command line prints, made safe for a terminal and for cron mail.

Page text, server headers (a redirect's ``Location``), run reports and lock files can hold
control characters: an ESC sequence retitles the window, clears the screen or moves the cursor,
a carriage return overwrites the line before it with a fake "ALL CHECKS PASSED". Every command
prints through :func:`echo`, which shows C0 and C1 control characters (and DEL) as visible
escapes (``\\x1b``) instead of sending them; :func:`one_line` also escapes line breaks and
tabs, for a value shown inside a line; :func:`json_text` is the same for ``--json`` output,
whose values stay exactly the data's.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, TextIO

from exitscrape.extraction.text import escape_controls

#: What ``json.dumps`` leaves raw (it escapes C0 itself): DEL and C1.
_JSON_RAW = re.compile("[\x7f-\x9f]")


def safe(text: object) -> str:
    """*text* with every control character but newline and tab shown as an escape."""
    return escape_controls(str(text), keep="\n\t")


def one_line(text: object) -> str:
    """*text* shown within one line: every control character escaped, newlines too."""
    return escape_controls(str(text))


def echo(*lines: object, file: TextIO | None = None) -> None:
    """Print *lines* (one per line) made safe, to stdout or *file*, at once (flushed)."""
    print("\n".join(safe(line) for line in lines), file=file or sys.stdout, flush=True)


def echo_error(message: object) -> None:
    """Print *message* to stderr, made safe."""
    echo(message, file=sys.stderr)


def json_text(value: Any) -> str:
    """*value* as indented JSON that a terminal shows as text: control characters are JSON
    escapes (``\\u001b``), so the value read back is the same."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

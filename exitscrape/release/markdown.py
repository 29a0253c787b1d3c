"""Data-derived text in the Markdown a release holds (data card, changelog), kept as text.

A programme's name, a country, a URL or a server's error message come from the crawled site: in
Markdown, ``<img src=x onerror=…>`` would be HTML, ``[x](javascript:…)`` a link, a line break a
new block. :func:`text` escapes what Markdown would act on so the value reads as written;
:func:`code` shows a value verbatim in a code span. Control characters (an ESC in a server's
header) are shown as escapes in both, as on the terminal.
"""

from __future__ import annotations

import re

from exitscrape.extraction.text import escape_controls

# What CommonMark (and GitHub's extensions) act on inside a line: HTML and autolinks (< >),
# links and images ([ ]), emphasis (* _ ~), code (`), tables (|), escapes (\) and character
# references (&name;). Backslash-escaped, each is shown as itself.
_ACTIVE = re.compile(r"[\\`*_\[\]<>|~]|&(?=#?\w+;)")
_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def text(value: object) -> str:
    """*value* as Markdown text that shows it as written, on one line (control characters as
    escapes)."""
    line = escape_controls(_BREAKS.sub(" ", str(value)))
    return _ACTIVE.sub(lambda m: "\\" + m.group(), line)


def code(value: object) -> str:
    """*value* as a code span, shown verbatim on one line (whatever backticks it holds)."""
    content = escape_controls(_BREAKS.sub(" ", str(value)))
    fence = "`" * (max((len(run) for run in re.findall("`+", content)), default=0) + 1)
    if content.startswith("`") or content.endswith("`"):
        content = f" {content} "
    return f"{fence}{content}{fence}"

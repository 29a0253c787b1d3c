"""Which text encoding a page's bytes are in.

Scrapy trusts a declared charset even when it cannot decode the page, and guesses (often wrongly,
e.g. windows-1250) when none is declared. Here the first encoding that decodes the whole body
wins: the BOM's, the HTTP header's, the ``<meta>`` tag's, UTF-8, else windows-1252 (the web's
legacy default).
"""

from __future__ import annotations

import codecs
import re

_CHARSET = re.compile(rb"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


def _charset(data: bytes) -> str | None:
    match = _CHARSET.search(data)
    return match.group(1).decode("ascii").lower() if match else None


def page_encoding(body: bytes, content_type: bytes | None) -> str | None:
    """The canonical name of the first encoding that fits *body* (see the module docstring),
    given the ``Content-Type`` header's value; ``None`` when none does."""
    candidates = [
        "utf-8" if body.startswith(codecs.BOM_UTF8) else None,
        _charset(content_type or b""),
        _charset(body[:4096]),
        "utf-8",
        "cp1252",
    ]
    for encoding in filter(None, candidates):
        try:
            name = codecs.lookup(encoding).name
            body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
        return name
    return None

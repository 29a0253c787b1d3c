"""Normalisation pipeline: clean text, split objectives, add ISO country codes and the
description's citations, nulls not blanks."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pycountry

from exitscrape.extraction.references import extract_references
from exitscrape.items import ProgrammeItem
from exitscrape.text import clean_multiline, clean_text

# Names pycountry does not resolve by exact lookup, mostly short or older English names.
# Kosovo has no ISO code; XK is the user-assigned code in common use (EU, IMF, ...).
COUNTRY_ALIASES = {
    "turkey": "TR",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "england and wales": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "ivory coast": "CI",
    "kosovo": "XK",
    "russia": "RU",
    "czech republic": "CZ",
    "macedonia": "MK",
    "usa": "US",
    "us": "US",
    "united states of america": "US",
}
_OBJECTIVE_SPLIT = re.compile(r"\s*[;\n]\s*")
_BULLET = re.compile(r"^(?:[-–—•·*]|\d+[.)])\s+")


@cache
def country_code(country: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code for a country name, or ``None``: exact matches only, no guessing."""
    if not country:
        return None
    name = re.sub(r"\s*\(.*?\)\s*", " ", country).strip()  # "Germany (Hesse)" -> "Germany"
    if alias := COUNTRY_ALIASES.get(name.casefold()):
        return alias
    for candidate in (name, re.sub(r"^the\s+", "", name, flags=re.IGNORECASE)):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return None


def split_objectives(value: str | list[str] | None) -> list[str]:
    """Objectives as a list: split on ``;`` and line breaks, bullets and end punctuation dropped."""
    if not value:
        return []
    raw = value if isinstance(value, list) else _OBJECTIVE_SPLIT.split(value)
    items = (clean_text(_BULLET.sub("", part.strip())) for part in raw)
    return [item.rstrip(" ;,") for item in items if item and item.rstrip(" ;,.")]


class NormalisePipeline:
    """Cleans every text field of a :class:`ProgrammeItem` in place; other items pass through."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ProgrammeItem):
            return item
        for field in ("title", "name", "country", "target_audience", "organisation"):
            setattr(item, field, clean_text(getattr(item, field)))
        item.name = item.name or item.title
        item.objectives = split_objectives(item.objectives)
        item.description = clean_multiline(item.description)
        item.country_code = country_code(item.country)
        item.references = extract_references(item.description)
        return item

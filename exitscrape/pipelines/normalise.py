"""Normalisation pipeline: a programme's ISO country code and the citations in its description.

The page object hands over cleaned text (:mod:`exitscrape.extraction.programme`); this adds what
is derived from it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pycountry

from exitscrape.extraction.references import extract_references
from exitscrape.items import ProgrammeItem

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


class NormalisePipeline:
    """Adds ``country_code`` and ``references`` to a :class:`ProgrammeItem`; other items pass
    through."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ProgrammeItem):
            return item
        item.country_code = country_code(item.country)
        item.references = extract_references(item.description)
        return item

"""In-text citations in a description, such as "(Butt & Tuck, 2014)" or "(RAN, 2016; Smith, 2019)".

Only parenthetical author–year citations are recognised: a parenthesis whose every ``;``-separated
part is an author (starting with a capital letter, no digits) followed by one or more years. A
parenthesis with anything else in it ("(e.g., religious, political)", "(NGO)", "(since 2016)",
"(June 2016)", "(Germany, 2000)", "(2014)") is not a citation. Narrative citations ("Butt and
Tuck (2014) found …") are not read.
"""

from __future__ import annotations

import calendar
import re
from functools import cache

import pycountry

from exitscrape.items import Reference

_PARENTHESIS = re.compile(r"\(([^()]*)\)")
# An author is capitalised text without digits or parentheses: "Butt & Tuck", "Smith et al.",
# "Radicalisation Awareness Network [RAN]", "O’Neil", "van der Berg" is left out (lower case).
_AUTHOR = r"[A-Z\u00c0-\u00de][^\d();]*?"
# Years, each optionally with a letter ("2014a"), separated by commas; then an optional locator.
_YEARS = r"(?:1[89]|20)\d\d[a-z]?(?:\s*,\s*(?:1[89]|20)\d\d[a-z]?)*"
_LOCATOR = r"(?:\s*,\s*(?:pp?\.|p\.p\.|page|para\.|chapter|ch\.)\s*[\d\s–\-,]+)?"
_PREFIX = r"(?:(?:see(?:\s+also)?|cf\.|e\.g\.,?)\s+)?"
_CITATION = re.compile(rf"{_PREFIX}(?P<author>{_AUTHOR}),?\s+(?P<years>{_YEARS}){_LOCATOR}\s*")
# Capitalised words that date an event rather than name an author: "(June 2016)", "(Since 2016)".
_DATE_WORDS = (
    "since from until till before after in on by around about circa early late mid between"
)
_NOT_AUTHORS = frozenset(_DATE_WORDS.split()) | {m.casefold() for m in calendar.month_name if m}


@cache
def _country_names() -> frozenset[str]:
    """Country names: "(Germany, 2000)" dates a place, it cites no one."""
    names = set()
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            if value := getattr(country, attribute, None):
                names.add(value.casefold())
    return frozenset(names)


def _citation(part: str) -> list[Reference] | None:
    match = _CITATION.fullmatch(part.strip())
    if not match:
        return None
    author = re.sub(r"\s+", " ", match["author"]).strip()
    if (
        author.split(" ")[0].casefold().rstrip(".,") in _NOT_AUTHORS
        or author.casefold() in _country_names()
    ):
        return None
    years = re.findall(r"\d{4}", match["years"])
    return [{"author": author, "year": int(year)} for year in years]


def extract_references(text: str | None) -> list[Reference]:
    """Distinct author–year citations in *text*, in order of first appearance.

    A year with a letter ("2014a") keeps only its number. A parenthesis counts only when every
    ``;``-separated part of it is a citation.
    """
    found: list[Reference] = []
    for match in _PARENTHESIS.finditer(text or ""):
        parts = [_citation(part) for part in match.group(1).split(";")]
        if not parts or any(part is None for part in parts):
            continue
        for part in parts:
            for reference in part or []:
                if reference not in found:
                    found.append(reference)
    return found

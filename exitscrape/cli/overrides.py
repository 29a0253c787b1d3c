"""``-s NAME=VALUE`` for ``exitscrape crawl``: read, and checked before the crawl starts.

A value must be one its setting takes (what Scrapy's getters, or the quality gates, would make
of it): a bad one is bad usage, a line naming the setting and what it expects for each, and
nothing runs. A name
that neither Scrapy nor exitscrape has only gets a warning: an enabled third-party component
may read it, and its settings cannot all be known.
"""

from __future__ import annotations

import difflib
import math
from typing import Any, NamedTuple

from scrapy.settings import BaseSettings, Settings, default_settings

from exitscrape.dataset.quality import THRESHOLD_SETTINGS, threshold_value
from exitscrape.spiders.scope import check_start_url

#: Settings whose default is a whole number though Scrapy reads them as any number.
_FRACTIONAL = frozenset({"DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT", "DNS_TIMEOUT"})
#: exitscrape's settings that take one of a few words.
_CHOICES = {"EXITSCRAPE_PROGRESS": ("auto", "on", "off")}
#: exitscrape's settings that take an http(s) URL (it goes into a request header).
_URLS = frozenset({"EXITSCRAPE_CONTACT_URL"})


def project_settings(module: str) -> Settings:
    """Scrapy's defaults with exitscrape's settings *module* over them."""
    settings = Settings()
    settings.setmodule(module, priority="project")
    return settings


def _problem(name: str, value: str, default: Any) -> str | None:
    """What *name* expects, when *value* is not one of its values (else ``None``)."""
    if name in THRESHOLD_SETTINGS.values():
        try:
            threshold_value(name, value)
        except ValueError as error:
            return str(error)
        return None
    expected = _expected(name, value, default)
    return f"{name} expects {expected}" if expected else None


def _expected(name: str, value: str, default: Any) -> str | None:
    """What *name* expects, by its default's type, when *value* is not one of its values."""
    if name in _CHOICES:
        choices = _CHOICES[name]
        return None if value.lower() in choices else "one of " + ", ".join(choices)
    if name in _URLS:
        try:
            check_start_url(value)
        except ValueError:
            return "an http(s) URL"
        return None if value.isprintable() and " " not in value else "an http(s) URL"
    given = BaseSettings({name: value})
    if isinstance(default, bool):
        try:
            given.getbool(name)
        except ValueError:
            return "True or False"
    elif isinstance(default, int | float):
        whole = isinstance(default, int) and name not in _FRACTIONAL
        signed = "PRIORITY" in name  # a negative priority is a choice (DEPTH_PRIORITY = -1)
        expected = ("a whole number" if whole else "a number") + ("" if signed else ", 0 or more")
        try:
            number = given.getint(name) if whole else given.getfloat(name)
        except ValueError:
            return expected
        if not math.isfinite(number) or (number < 0 and not signed):
            return expected
    elif isinstance(default, dict | BaseSettings):
        try:
            given.getdict(name)
        except ValueError:
            return "a JSON object, e.g. {}"
    return None


class Checked(NamedTuple):
    """What :func:`check` found: a line for each."""

    errors: list[str]  # values their settings do not take: bad usage
    warnings: list[str]  # names no one knows


def check(overrides: dict[str, str], known: BaseSettings) -> Checked:
    """Check *overrides* against the settings *known* (the project's, Scrapy's defaults under
    them, and the gates' thresholds)."""
    found = Checked([], [])
    names = {n for n in dir(default_settings) if n.isupper()} | set(known.attributes)
    names |= set(THRESHOLD_SETTINGS.values())
    for name, value in overrides.items():
        if name not in names:
            guess = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else ""
            found.warnings.append(
                f"-s {name}: neither Scrapy nor exitscrape has a setting of that name{hint}; "
                "passed on in case a third-party component reads it"
            )
        elif (problem := _problem(name, value, known.get(name))) is not None:
            shown = value if value.isprintable() else repr(value)
            found.errors.append(f"-s {name}={shown}: {problem}")
    return found

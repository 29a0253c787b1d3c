"""What the spider emits: typed records the pipelines normalise and the dataset store assembles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from exitscrape.extraction.references import Reference


@dataclass(slots=True)
class Category:
    """A place in the site's menu tree, read from its labels: setting › ideology › region."""

    setting: str | None = None
    ideology: str | None = None
    region: str | None = None


@dataclass(slots=True)
class MenuItem:
    """The site's menu: every menu URL with the category its label path names (if any)."""

    url: str
    categories: dict[str, Category]
    links: list[str]


@dataclass(slots=True)
class PageItem:
    """One URL the crawl met, whatever became of it."""

    url: str
    final_url: str | None
    status: int | None
    fetched_at: datetime | None
    content_type: str | None = None
    body_sha256: str | None = None
    referer: str | None = None
    error: str | None = None
    skipped: bool = False  # not fetched on purpose (robots.txt, a redirect off the site)
    is_programme: bool = False
    links: list[str] = field(default_factory=list)
    # The response's validators, kept for the next run's quick check (exitscrape/recheck.py).
    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class ProgrammeItem:
    """The fields of one programme page, as found at one URL.

    The extraction fills the raw strings; the normalisation pipeline cleans them, splits
    ``objectives`` into a list and adds ``country_code`` and the description's ``references``.
    """

    url: str
    fetched_at: datetime
    title: str | None = None
    name: str | None = None
    country: str | None = None
    target_audience: str | None = None
    organisation: str | None = None
    objectives: str | list[str] | None = None
    description: str | None = None
    country_code: str | None = None
    references: list[Reference] = field(default_factory=list)

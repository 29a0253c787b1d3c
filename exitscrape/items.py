"""What the crawl produces: typed records, and the vocabularies they are written in.

The spider emits a :class:`SiteMenu` (once), a :class:`PageItem` for every URL it meets and a
:class:`ProgrammeItem` for every programme page; the pipelines enrich programme items and
collect all of them; :mod:`exitscrape.dataset.assemble` turns them into the dataset's tables.
Plain dataclasses: nothing here imports Scrapy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

#: The site's categories, in the order its menu lists them (dataset list columns keep it).
SETTINGS = ("prison", "probation", "prison and probation")
IDEOLOGIES = ("islamist", "far-right", "far-left")
REGIONS = ("europe", "other regions")

#: Media types of web pages: the only responses parsed for links and programme fields.
HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})


class Reference(TypedDict):
    """One author–year citation found in a description."""

    author: str
    year: int


@dataclass(slots=True)
class Category:
    """A place in the site's menu tree, read from its labels: setting › ideology › region."""

    setting: str | None = None
    ideology: str | None = None
    region: str | None = None


@dataclass(slots=True)
class SiteMenu:
    """The site's menu, read from the page at *url*: every menu link, and the category each
    menu page stands for (the pages whose labels name a setting or an ideology)."""

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
    # The response's validators, kept for the next run's quick check (exitscrape.incremental).
    etag: str | None = None
    last_modified: str | None = None
    # In archive mode: when the archive captured the answer, and the capture's replay URL.
    captured_at: datetime | None = None
    archive_url: str | None = None
    # The WARC record ID of the response in the version's captures (exitscrape.evidence).
    warc_record_id: str | None = None


@dataclass(slots=True)
class ProgrammeItem:
    """The fields of one programme page, as found at one URL.

    The page object (:meth:`exitscrape.extraction.programme.ProgrammePage.to_item`) fills the
    cleaned fields; the normalisation pipeline adds ``country_code`` and ``references``.
    """

    url: str
    fetched_at: datetime
    title: str | None = None
    name: str | None = None
    country: str | None = None
    target_audience: str | None = None
    organisation: str | None = None
    objectives: list[str] = field(default_factory=list)
    description: str | None = None
    country_code: str | None = None
    references: list[Reference] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        """Items with equal keys are copies of one programme: its name and its country
        (the ISO code when known, else the country as written), case-folded."""
        return programme_key(self.name, self.country, self.country_code)


def programme_key(name: str | None, country: str | None, code: str | None) -> tuple[str, str]:
    """The identity of a programme across its copies (see :attr:`ProgrammeItem.key`)."""
    return ((name or "").casefold(), code or (country or "").casefold())

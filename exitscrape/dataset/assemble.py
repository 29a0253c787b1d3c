"""Assemble a crawl's records into the dataset's tables.

Pure and order-independent: the same pages give the same rows, whatever order they came in.
A programme found at several URLs (Weebly copies a page into each category) becomes one row
carrying every URL and every category of the pages that list it.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from exitscrape.dataset.schema import PAGES, PROGRAMMES, VOLATILE_COLUMNS
from exitscrape.items import Category, MenuItem, PageItem, ProgrammeItem
from exitscrape.pages.menu import IDEOLOGIES, REGIONS, SETTINGS

CONTENT_FIELDS = ("name", "country", "target_audience", "organisation", "objectives", "description")
UNRECOGNISED = "linked from a category page but no programme fields found"


@dataclass
class CrawlRecords:
    """Everything one crawl met, as the spider reported it."""

    menu: MenuItem | None = None
    pages: list[PageItem] = field(default_factory=list)
    programmes: list[ProgrammeItem] = field(default_factory=list)

    def add(self, item: Any) -> None:
        if isinstance(item, ProgrammeItem):
            self.programmes.append(item)
        elif isinstance(item, PageItem):
            self.pages.append(item)
        elif isinstance(item, MenuItem) and self.menu is None:
            self.menu = item


@dataclass
class Tables:
    programmes: pa.Table
    pages: pa.Table
    digest: str
    warnings: list[str]

    @property
    def as_dict(self) -> dict[str, pa.Table]:
        return {"programmes": self.programmes, "pages": self.pages}


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "x"


def content_sha256(item: ProgrammeItem) -> str:
    content = {name: getattr(item, name) for name in CONTENT_FIELDS}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def rows_digest(rows: Iterable[dict[str, Any]]) -> str:
    """SHA-256 of programme rows without volatile columns: equal digests, equal data."""
    stable = [{k: v for k, v in row.items() if k not in VOLATILE_COLUMNS} for row in rows]
    payload = json.dumps(stable, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _ordered(values: set[str], order: tuple[str, ...]) -> list[str]:
    return [v for v in order if v in values] + sorted(values - set(order))


class _Site:
    """Redirects, links and categories of the crawled pages."""

    def __init__(self, records: CrawlRecords) -> None:
        self.final = {p.url: p.final_url for p in records.pages if p.final_url}
        menu = records.menu
        self.menu_urls = {self.resolve(u) for u in (menu.links if menu else [])}
        # Programme pages are listed by category pages, never in the menu: a menu page that
        # reads like one (a "Description" heading on an about page, say) is not a programme.
        self.programme_urls = {p.url for p in records.programmes} - self.menu_urls
        self.links: dict[str, set[str]] = defaultdict(set)
        for page in records.pages:
            if page.final_url:
                self.links[page.final_url].update(self.resolve(u) for u in page.links)
        self.categories: dict[str, list[Category]] = defaultdict(list)
        for url, category in (menu.categories if menu else {}).items():
            self.categories[self.resolve(url)].append(category)
        self._inherit()

    def resolve(self, url: str) -> str:
        return self.final.get(url, url)

    def _inherit(self) -> None:
        """Pages outside the menu that list programmes for a category page (its page 2, say)
        belong to that page's categories."""
        changed = True
        while changed:
            changed = False
            for source, targets in sorted(self.links.items()):
                if source not in self.categories or source in self.programme_urls:
                    continue
                for target in sorted(targets):
                    if (
                        target in self.menu_urls
                        or target in self.programme_urls
                        or target in self.categories
                        or not (self.links.get(target, set()) & self.programme_urls)
                    ):
                        continue
                    self.categories[target] = list(self.categories[source])
                    changed = True

    def listed_by(self) -> dict[str, list[Category]]:
        """For every programme URL, the categories of the pages linking to it."""
        found: dict[str, list[Category]] = defaultdict(list)
        for source, targets in self.links.items():
            if source in self.programme_urls:
                continue
            for target in targets & self.programme_urls:
                found[target].extend(self.categories.get(source, []))
        return found


def _choose(variants: list[ProgrammeItem]) -> ProgrammeItem:
    """The copy that speaks for a programme: its most common content, then the most complete."""
    counts = Counter(content_sha256(v) for v in variants)

    def rank(item: ProgrammeItem) -> tuple[int, int, str]:
        filled = sum(bool(getattr(item, f)) for f in CONTENT_FIELDS)
        return (-counts[content_sha256(item)], -filled, content_sha256(item))

    return min(variants, key=rank)


def programme_rows(records: CrawlRecords, site: _Site) -> tuple[list[dict[str, Any]], list[str]]:
    groups: dict[tuple[str, str], list[ProgrammeItem]] = defaultdict(list)
    for item in records.programmes:
        if item.url not in site.programme_urls:
            continue
        key = ((item.name or "").casefold(), item.country_code or (item.country or "").casefold())
        groups[key].append(item)
    listed_by = site.listed_by()
    rows, warnings, ids = [], [], Counter()
    for _, variants in sorted(groups.items()):
        chosen = _choose(variants)
        if len({content_sha256(v) for v in variants}) > 1:
            warnings.append(
                f"{chosen.name!r}: copies differ between {sorted(v.url for v in variants)}; "
                f"kept {chosen.url}"
            )
        categories = [c for v in variants for c in listed_by.get(v.url, [])]
        country = chosen.country_code.lower() if chosen.country_code else slug(chosen.country or "")
        programme_id = f"{slug(chosen.name or '')}-{country}"
        ids[programme_id] += 1
        if ids[programme_id] > 1:
            programme_id += f"-{ids[programme_id]}"
        rows.append(
            {
                "programme_id": programme_id,
                "name": chosen.name,
                "country": chosen.country,
                "country_code": chosen.country_code,
                "target_audience": chosen.target_audience,
                "organisation": chosen.organisation,
                "objectives": list(chosen.objectives or []),
                "description": chosen.description,
                "references": list(chosen.references),
                "settings": _ordered({c.setting for c in categories if c.setting}, SETTINGS),
                "ideologies": _ordered({c.ideology for c in categories if c.ideology}, IDEOLOGIES),
                "regions": _ordered({c.region for c in categories if c.region}, REGIONS),
                "source_urls": sorted({v.url for v in variants}),
                "content_sha256": content_sha256(chosen),
                "crawled_at": max(v.fetched_at for v in variants),
            }
        )
    rows.sort(key=lambda row: row["programme_id"])
    return rows, warnings


def page_rows(records: CrawlRecords, site: _Site) -> list[dict[str, Any]]:
    linked_from_category = {
        target
        for source, targets in site.links.items()
        if site.categories.get(source) and source not in site.programme_urls
        for target in targets
    }
    rows: dict[str, dict[str, Any]] = {}
    for page in records.pages:
        final = page.final_url
        error = page.error
        if error:
            kind = "failed"
        elif final in site.programme_urls:
            kind = "programme"
        elif final in site.categories:
            kind = "listing"
        else:
            kind = "other"
            if (
                final in linked_from_category
                and final not in site.menu_urls
                and (page.content_type in (None, "text/html", "application/xhtml+xml"))
            ):
                error = UNRECOGNISED
        row = {
            "url": page.url,
            "final_url": final,
            "status": page.status,
            "kind": kind,
            "error": error,
            "fetched_at": page.fetched_at,
            "body_sha256": page.body_sha256,
            "content_type": page.content_type,
            "referer": page.referer,
        }
        # A URL met twice (a HEAD after a redirect, say) keeps its most informative record.
        previous = rows.get(page.url)
        if previous is None or (previous["error"] and not row["error"]):
            rows[page.url] = row
    return [rows[url] for url in sorted(rows)]


def assemble(records: CrawlRecords) -> Tables:
    """The programmes and pages tables of one crawl, with the programmes' digest."""
    site = _Site(records)
    programmes, warnings = programme_rows(records, site)
    pages = page_rows(records, site)
    warnings += [f"{row['url']}: {UNRECOGNISED}" for row in pages if row["error"] == UNRECOGNISED]
    return Tables(
        programmes=pa.Table.from_pylist(programmes, schema=PROGRAMMES),
        pages=pa.Table.from_pylist(pages, schema=PAGES),
        digest=rows_digest(programmes),
        warnings=warnings,
    )

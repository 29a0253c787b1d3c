"""Assembly: one row per programme, categories and URLs merged, independent of crawl order."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from exitscrape.dataset.assemble import UNRECOGNISED, CrawlRecords, assemble
from exitscrape.items import Category, PageItem, ProgrammeItem, SiteMenu

T = datetime(2026, 1, 1, tzinfo=UTC)
H = "http://127.0.0.1:9/"


def page(url: str, links=(), final: str | None = None, **kw) -> PageItem:
    return PageItem(
        url=H + url,
        final_url=H + (final or url),
        status=200,
        fetched_at=T,
        links=[H + link for link in links],
        **kw,
    )


def programme(url: str, name: str = "Alpha", description: str = "Same.") -> ProgrammeItem:
    return ProgrammeItem(
        url=H + url,
        fetched_at=T,
        name=name,
        country="Norway",
        country_code="NO",
        objectives=[],
        description=description,
    )


def items() -> list:
    menu = SiteMenu(
        url=H,
        links=[H + "c1.html", H + "c2.html", H + "about.html"],
        categories={
            H + "c1.html": Category("prison", "islamist", "europe"),
            H + "c2.html": Category("probation", "far-right"),
        },
    )
    return [
        menu,
        page("c1.html", links=["a.html", "old.html", "c1-page2.html", "nonprog.html"]),
        page("c2.html", links=["a1.html"]),
        page("c1-page2.html", links=["b.html"]),
        page("about.html", links=["a.html"]),
        programme("about.html", name="About us"),
        page("a.html"),
        programme("a.html"),
        page("a1.html"),
        programme("a1.html"),
        page("old.html", final="new.html"),
        programme("new.html", name="Beta"),
        page("b.html"),
        programme("b.html", name="Gamma"),
        page("nonprog.html"),
        PageItem(url=H + "dead.html", final_url=None, status=404, fetched_at=T, error="HTTP 404"),
    ]


def test_merge_categories_urls_redirects_and_pagination() -> None:
    records = CrawlRecords()
    for item in items():
        records.add(item)
    tables = assemble(records)
    rows = {r["name"]: r for r in tables.programmes.to_pylist()}
    assert len(rows) == 3
    alpha = rows["Alpha"]
    assert alpha["source_urls"] == [H + "a.html", H + "a1.html"]
    assert alpha["settings"] == ["prison", "probation"]
    assert alpha["ideologies"] == ["islamist", "far-right"]
    assert alpha["regions"] == ["europe"]
    assert rows["Beta"]["source_urls"] == [H + "new.html"]  # linked via a redirect
    assert rows["Beta"]["settings"] == ["prison"]
    assert rows["Gamma"]["settings"] == ["prison"]  # listed on the category's second page
    pages = {r["url"]: r for r in tables.pages.to_pylist()}
    assert pages[H + "dead.html"]["kind"] == "failed"
    assert pages[H + "c1-page2.html"]["kind"] == "listing"
    assert pages[H + "about.html"]["kind"] == "other"  # a menu page is never a programme
    assert pages[H + "nonprog.html"]["error"] == UNRECOGNISED
    assert any("nonprog.html" in w for w in tables.warnings)


def test_order_independent() -> None:
    digests = set()
    for seed in range(5):
        shuffled = items()
        random.Random(seed).shuffle(shuffled)
        records = CrawlRecords()
        for item in shuffled:
            records.add(item)
        tables = assemble(records)
        digests.add((tables.digest, tables.pages.to_pylist().__repr__()))
    assert len(digests) == 1


def test_differing_copies_pick_one_deterministically_and_warn() -> None:
    records = CrawlRecords()
    for item in [
        page("x.html"),
        programme("x.html", description="Long text."),
        page("y.html"),
        programme("y.html", description="Long text, edited."),
        page("z.html"),
        programme("z.html", description="Long text."),
    ]:
        records.add(item)
    tables = assemble(records)
    (row,) = tables.programmes.to_pylist()
    assert row["description"] == "Long text."  # the majority copy
    assert len(row["source_urls"]) == 3
    assert any("copies differ" in w for w in tables.warnings)

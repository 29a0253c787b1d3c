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


def copies(*versions: tuple[str, str, str | None]) -> CrawlRecords:
    """Records of one programme's copies: (page, organisation, Last-Modified) each."""
    records = CrawlRecords()
    for url, organisation, last_modified in versions:
        records.add(page(url, last_modified=last_modified))
        item = programme(url)
        item.organisation = organisation
        records.add(item)
    return records


def test_differing_copies_without_history_keep_the_first_url_and_say_so() -> None:
    tables = assemble(copies(("y.html", "Old", None), ("x.html", "New", None)))
    (row,) = tables.programmes.to_pylist()
    assert row["organisation"] == "New"  # x.html sorts first
    assert row["source_urls"] == [H + "x.html", H + "y.html"]
    (other,) = row["differing_copies"]
    assert other["url"] == H + "y.html" and other["fields"] == ["organisation"]
    (disagreement,) = tables.disagreements
    assert disagreement.kept == H + "x.html"
    assert disagreement.why == "the first URL in sort order"
    assert [c.url for c in disagreement.copies] == [H + "y.html"]


def test_the_latest_last_modified_wins_and_a_hostile_one_counts_as_none() -> None:
    later = "Wed, 02 Dec 2026 10:00:00 GMT"
    tables = assemble(copies(("x.html", "Old", "Tue, 01 Dec 2026 10:00:00 GMT"),
                             ("y.html", "New", later)))  # fmt: skip
    (row,) = tables.programmes.to_pylist()
    assert row["organisation"] == "New"
    assert tables.disagreements[0].why == "the latest Last-Modified"
    for junk in ("yesterday", "\x1b[2J", "Wed, 02 Dec 99999 10:00:00 GMT", ""):
        tables = assemble(copies(("x.html", "Old", junk), ("y.html", "New", None)))
        assert tables.programmes.to_pylist()[0]["organisation"] == "Old", junk


def test_a_copy_edited_since_the_previous_version_wins_and_keeps_winning() -> None:
    agreed = assemble(copies(("x.html", "Same", None), ("y.html", "Same", None)))
    assert agreed.programmes.to_pylist()[0]["differing_copies"] == []
    # An editor changes y.html only; x.html sorts first and claims a later Last-Modified.
    late = "Wed, 02 Dec 2026 10:00:00 GMT"
    edited = [("x.html", "Same", late), ("y.html", "Edited", None)]
    first = assemble(copies(*edited), agreed.programmes)
    (row,) = first.programmes.to_pylist()
    assert row["organisation"] == "Edited" and first.digest != agreed.digest
    assert first.disagreements[0].why == "changed since the previous version"
    assert [c["url"] for c in row["differing_copies"]] == [H + "x.html"]
    # Nothing changes: the newer text stays, the data is the same (nothing to publish).
    again = assemble(copies(*reversed(edited)), first.programmes)
    assert again.programmes.to_pylist()[0]["organisation"] == "Edited"
    assert again.digest == first.digest
    assert again.disagreements[0].why == "the text the previous version held"
    # The other copy catches up: the copies agree again, and the data says so.
    settled = assemble(copies(("x.html", "Edited", late), ("y.html", "Edited", None)),
                       again.programmes)  # fmt: skip
    assert settled.programmes.to_pylist()[0]["differing_copies"] == []
    assert settled.disagreements == [] and settled.digest != again.digest


def test_a_previous_version_of_an_older_schema_is_read() -> None:
    old = assemble(copies(("x.html", "Same", None))).programmes.drop_columns("differing_copies")
    tables = assemble(copies(("x.html", "Same", None), ("y.html", "New", None)), old)
    assert tables.programmes.to_pylist()[0]["organisation"] == "New"  # y.html is new

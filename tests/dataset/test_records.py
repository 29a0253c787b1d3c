"""Assembly holds little in memory (spooled items, tables built a slice at a time, a streamed
digest) and still gives exactly what the all-in-memory version gave."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
from datetime import UTC, datetime, timedelta
from unittest.mock import ANY

import pyarrow as pa

from exitscrape.dataset.assemble import (
    _BATCH_ROWS,
    CrawlRecords,
    RowsDigest,
    assemble,
    to_table,
)
from exitscrape.dataset.schema import PAGES
from exitscrape.items import Category, PageItem, ProgrammeItem, SiteMenu


def rows_digest(rows: list[dict]) -> str:
    digest = RowsDigest()
    for row in rows:
        digest.update(row)
    return digest.hexdigest()


T0 = datetime(2026, 1, 1, tzinfo=UTC)
SITE = "http://127.0.0.1:8000/"


def _programme(url: str, name: str, description: str, minutes: int = 0) -> ProgrammeItem:
    return ProgrammeItem(
        url=url,
        fetched_at=T0 + timedelta(minutes=minutes),
        title=name,
        name=name,
        country="Norway",
        country_code="NO",
        objectives=["Help", "Leave – now"],
        description=description,
    )


def _items() -> list[object]:
    """A menu, a category page listing four programme pages: two copies that differ, one copy
    that matches a third page, and a programme of its own."""
    programmes = [
        _programme(f"{SITE}a.html", "Alpha", "Same text.", 1),
        _programme(f"{SITE}a1.html", "Alpha", "Same text.", 2),
        _programme(f"{SITE}a2.html", "Alpha", "Other text ✓", 3),
        _programme(f"{SITE}b.html", "Beta", "Beta's text.", 4),
    ]
    listing = f"{SITE}islamist.html"
    pages = [
        PageItem(url=p.url, final_url=p.url, status=200, fetched_at=T0, is_programme=True)
        for p in programmes
    ]
    pages.append(
        PageItem(
            url=listing,
            final_url=listing,
            status=200,
            fetched_at=T0,
            links=[p.url for p in programmes],
        )
    )
    menu = SiteMenu(
        url=SITE,
        categories={listing: Category(setting="prison", ideology="islamist")},
        links=[listing],
    )
    return [menu, *pages, *programmes]


def test_programmes_are_spooled_and_read_back_equal() -> None:
    records = CrawlRecords()
    items = _items()
    for item in items:
        records.add(item)
    expected = [item for item in items if isinstance(item, ProgrammeItem)]
    assert list(records.programmes) == expected
    assert [stub.url for stub in records.stubs] == [p.url for p in expected]
    assert records.programme(records.stubs[2]) == expected[2]
    records.close()


def test_the_spool_holds_data_not_pickles(monkeypatch) -> None:
    """Items go to disk and back as JSON lines: nothing read back can run code."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pickle used")

    for name in ("dump", "dumps", "load", "loads"):
        monkeypatch.setattr(pickle, name, refuse)
    records = CrawlRecords()
    items = [item for item in _items() if isinstance(item, ProgrammeItem)]
    items[0].references = [{"author": "Butt & Tuck", "year": 2014}]
    for item in items:
        records.add(item)
    assert list(records.programmes) == items
    assert records.programme(records.stubs[0]).fetched_at == items[0].fetched_at
    records.close()


def test_assembly_is_order_independent_and_records_differing_copies() -> None:
    results = []
    for seed in range(3):
        items = _items()
        random.Random(seed).shuffle(items)
        records = CrawlRecords()
        for item in items:
            records.add(item)
        results.append(assemble(records))
    first = results[0]
    for other in results[1:]:
        assert other.programmes.equals(first.programmes)
        assert other.pages.equals(first.pages)
        assert other.digest == first.digest
    rows = first.programmes.to_pylist()
    assert [row["name"] for row in rows] == ["Alpha", "Beta"]
    assert rows[0]["description"] == "Same text."
    assert rows[0]["source_urls"] == [f"{SITE}a.html", f"{SITE}a1.html", f"{SITE}a2.html"]
    assert rows[0]["crawled_at"] == T0 + timedelta(minutes=3)
    assert rows[0]["ideologies"] == ["islamist"]
    assert rows[0]["differing_copies"] == [
        {"url": f"{SITE}a2.html", "fields": ["description"], "content_sha256": ANY}
    ]
    assert [d.programme_id for d in first.disagreements] == [rows[0]["programme_id"]]
    assert first.digest == rows_digest(rows)


def test_streamed_digest_equals_the_digest_of_the_whole_json_document() -> None:
    rows = [
        {"programme_id": f"p-{i}", "name": f"Ünïcode {i} –", "crawled_at": T0, "n": [i, None]}
        for i in range(5)
    ]
    stable = [{k: v for k, v in row.items() if k != "crawled_at"} for row in rows]
    document = json.dumps(stable, sort_keys=True, default=str, ensure_ascii=False)
    assert rows_digest(rows) == hashlib.sha256(document.encode()).hexdigest()
    assert rows_digest([]) == hashlib.sha256(b"[]").hexdigest()


def test_table_built_in_slices_equals_the_table_built_at_once() -> None:
    rows = [
        {
            "url": f"{SITE}{i}.html",
            "final_url": None if i % 7 == 0 else f"{SITE}{i}.html",
            "status": 200 if i % 5 else None,
            "kind": "programme",
            "error": None,
            "fetched_at": T0,
            "body_sha256": "0" * 64,
            "content_type": "text/html",
            "referer": SITE,
        }
        for i in range(2 * _BATCH_ROWS + 3)
    ]
    assert to_table(rows, PAGES).equals(pa.Table.from_pylist(rows, schema=PAGES))
    assert to_table(iter(rows), PAGES).schema.equals(PAGES, check_metadata=True)
    empty = to_table([], PAGES)
    assert empty.num_rows == 0
    assert empty.schema.equals(PAGES, check_metadata=True)

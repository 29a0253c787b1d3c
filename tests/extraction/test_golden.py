"""Extraction gives exactly what it gave before it was optimised for speed (see BENCHMARKS.md).

``tests/data/extraction_golden.json`` holds, for every page of the bundled snapshot and for each
field layout of :mod:`tests.weebly`, the flattened lines, every ProgrammePage property and the
content links, as the unoptimised extraction (main at 8588b46) produced them. Any change to what
extraction returns shows up here; a deliberate one must regenerate the file and say why.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest

from exitscrape.extraction.lines import flatten
from exitscrape.extraction.links import content_links
from exitscrape.extraction.programme import ProgrammePage
from exitscrape.snapshot.server import SNAPSHOT_DIR
from tests.conftest import DATA
from tests.weebly import Programme, programme_html

GOLDEN = json.loads((DATA / "extraction_golden.json").read_text(encoding="utf-8"))
#: The golden file's keys, and the ProgrammePage property each records.
PROPERTIES = {
    "is_programme": "is_programme",
    "title": "title",
    "name": "name",
    "country": "country",
    "target_audience": "target_audience",
    "organisation": "organisation",
    "objectives": "objectives_text",
    "description": "description",
}
FIELDS = {
    "Name": "N &amp; co",
    "Country": "Norway",
    "Target audience": "Inmates<br />and staff",
    "Organisation": "Org",
    "Objectives": "One; two<br />three",
}


def _pages() -> dict[str, str]:
    pages = {p.name: p.read_text(encoding="utf-8") for p in sorted(SNAPSHOT_DIR.glob("*.html"))}
    for layout in ("model", "separate", "inline", "plain"):
        pages[f"weebly-{layout}"] = programme_html(Programme("T", "Norway", FIELDS), layout)
    return pages


def _extract(html: str) -> dict[str, Any]:
    page = ProgrammePage.from_html(html)
    return {
        "lines": [list(asdict(line).values()) for line in flatten(page._content.root)],
        **{key: getattr(page, name) for key, name in PROPERTIES.items()},
        "links": content_links(page._selector, "http://127.0.0.1/x/page.html"),
    }


def test_golden_covers_every_page() -> None:
    assert sorted(GOLDEN) == sorted(_pages())
    assert sum(record["is_programme"] for record in GOLDEN.values()) >= 11


@pytest.mark.parametrize("name", sorted(_pages()))
def test_extraction_unchanged(name: str) -> None:
    assert _extract(_pages()[name]) == GOLDEN[name]

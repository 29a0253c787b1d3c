"""Normalisation: country codes and citations added to programme items."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exitscrape.items import ProgrammeItem
from exitscrape.pipelines.normalise import NormalisePipeline, country_code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Turkey", "TR"),
        ("United Kingdom", "GB"),
        ("Netherlands", "NL"),
        ("The Netherlands", "NL"),
        ("Germany (Hesse)", "DE"),
        ("Norway", "NO"),
        ("UK", "GB"),
        ("Türkiye", "TR"),
        ("Kosovo", "XK"),
        ("Europe", None),
        ("", None),
        (None, None),
    ],
)
def test_country_code(name: str | None, code: str | None) -> None:
    assert country_code(name) == code


def test_pipeline_adds_country_code_and_references() -> None:
    item = ProgrammeItem(
        url="http://h/p.html",
        fetched_at=datetime.now(UTC),
        name="Mentoring Programme",
        country="Norway",
        description="As shown (Butt & Tuck, 2014).",
    )
    out = NormalisePipeline().process_item(item)
    assert out.country == "Norway" and out.country_code == "NO"
    assert out.references == [{"author": "Butt & Tuck", "year": 2014}]


def test_pipeline_passes_other_items() -> None:
    other = object()
    assert NormalisePipeline().process_item(other) is other

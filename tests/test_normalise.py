"""Normalisation: text cleanup, objectives, country codes, nulls instead of blanks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exitscrape.items import ProgrammeItem
from exitscrape.pipelines.normalise import NormalisePipeline, country_code, split_objectives
from exitscrape.text import clean_multiline, clean_text


def test_clean_text() -> None:
    assert clean_text("  Ministry\u00a0of\u200b Justice\ufeff \n") == "Ministry of Justice"
    assert clean_text("Entre\u0301") == "Entré"  # decomposed é -> NFC
    assert clean_text("\u200b \u00a0") is None
    assert clean_text(None) is None


def test_clean_multiline_keeps_blocks() -> None:
    assert clean_multiline("a \u00a0b\n\n\n- one\n-  two\n \n") == "a b\n\n- one\n- two"


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


def test_split_objectives() -> None:
    assert split_objectives("Prevent violence; prevent contact;\nintervene early") == [
        "Prevent violence",
        "prevent contact",
        "intervene early",
    ]
    assert split_objectives("- First\n• Second;") == ["First", "Second"]
    assert split_objectives(None) == []
    assert split_objectives(" ; ") == []


def test_pipeline_normalises_item_and_uses_nulls() -> None:
    item = ProgrammeItem(
        url="http://h/p.html",
        fetched_at=datetime.now(UTC),
        title="Mentoring\u00a0Programme",
        name=None,
        country=" Norway\u200b",
        target_audience="  ",
        organisation="Ministry of Justice",
        objectives="a; b",
        description="Para one.\n\n\n- item\u200b\n",
    )
    out = NormalisePipeline().process_item(item)
    assert out.name == "Mentoring Programme"  # falls back to the title
    assert out.country == "Norway" and out.country_code == "NO"
    assert out.target_audience is None  # never an empty string
    assert out.objectives == ["a", "b"]
    assert out.description == "Para one.\n\n- item"


def test_pipeline_passes_other_items() -> None:
    other = object()
    assert NormalisePipeline().process_item(other) is other

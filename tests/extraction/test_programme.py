"""Extraction from programme pages: every Weebly quirk, without a crawl."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from exitscrape.extraction.programme import ProgrammePage, split_objectives
from exitscrape.snapshot.server import SNAPSHOT_DIR
from tests.weebly import Programme, multicol, page_html, programme_html

FIELDS = {
    "Name": "Team TER",
    "Target audience": "Probationers convicted of terrorism-related offences",
    "Organisation": "Dutch Probation Service",
    "Objectives": "Disengage radicalised probationers; influence behaviour; support reintegration",
}
EXPECTED = {
    "name": "Team TER",
    "target_audience": "Probationers convicted of terrorism-related offences",
    "organisation": "Dutch Probation Service",
}
OBJECTIVES = "Disengage radicalised probationers; influence behaviour; support reintegration"


def page(html: str | bytes, url: str = "http://127.0.0.1/p.html", **kwargs) -> ProgrammePage:
    response = HtmlResponse(url=url, body=html, **({"encoding": "utf-8"} | kwargs))
    return ProgrammePage(response.selector)


@pytest.mark.parametrize("layout", ["model", "separate", "inline", "plain"])
def test_fields_in_every_layout(layout: str) -> None:
    p = page(programme_html(Programme("Team TER page", "Netherlands", FIELDS), layout))
    assert p.is_programme
    assert {k: getattr(p, k) for k in EXPECTED} == EXPECTED
    assert p.objectives_text == OBJECTIVES
    assert p.country == "Netherlands"
    assert p.description == "A description."


@pytest.mark.parametrize(
    "label",
    [
        "Target audience",
        "TARGET AUDIENCE:",
        "target audience :",
        "Target&nbsp;audience&#8203;",
        "<font color='#2a2a2a'>Target audience</font>",
        "Target Audience：",
    ],
)
def test_label_spellings(label: str) -> None:
    fields = {"Name": "X", label: "Adults on probation", "Objectives": "One"}
    for layout in ("model", "separate"):
        p = page(programme_html(Programme("X", "France", fields), layout))
        assert p.target_audience == "Adults on probation", layout


def test_two_fields_per_row_and_label_value_in_separate_cells() -> None:
    # A table row of label cell / value cell pairs, not Weebly's icon + paragraph.
    rows = multicol("<strong>Name</strong>", "Alpha", "<strong>Organisation</strong>", "Org A")
    content = f"<h2 class='wsite-content-title'>Alpha</h2>{rows}<h2>Description</h2><p>Text.</p>"
    p = page(page_html("Alpha", content))
    assert (p.name, p.organisation) == ("Alpha", "Org A")


def test_label_and_value_share_a_paragraph_with_wrappers_and_invisibles() -> None:
    content = (
        "<h2 class='wsite-content-title'>T</h2>"
        '<div class="paragraph"><strong><font color="#2a2a2a">Organisation</font></strong>'
        '<br /><span style="color:rgb(42, 42, 42)">Ministry of&nbsp;Justice&#8203;</span></div>'
        '<div class="paragraph"><span>\ufeff</span><b>Name</b><br/><br/>Real name</div>'
        "<h2>Description</h2><div class='paragraph'>D</div>"
    )
    p = page(page_html("T", content))
    assert p.organisation == "Ministry of Justice"
    assert p.name == "Real name"


def test_name_falls_back_to_title() -> None:
    p = page(programme_html(Programme("Back on Track (BOT)", "Denmark", {})))
    assert p.is_programme
    assert p.name == "Back on Track (BOT)"
    assert p.target_audience is None and p.organisation is None and p.objectives_text is None


def test_title_from_title_tag_when_no_heading() -> None:
    content = '<div class="paragraph"><strong>Name:</strong> </div><h3>Description</h3><p>x</p>'
    p = page(page_html("RIVE", content))
    assert p.title == "RIVE"
    assert p.name == "RIVE"


def test_description_structure() -> None:
    description = (
        '<div class="paragraph" style="text-align:justify;">First paragraph (Butt &amp; Tuck, '
        "2014).<br /><br />Second paragraph.<br />&nbsp;</div>"
        '<div class="paragraph"><strong>The Mentor Corps:</strong><ul><li>One;</li>'
        '<li><span style="color:rgb(42, 42, 42)">Two.</span>&#8203;</li></ul>After list.<br /></div>'
        '<h2 class="wsite-content-title">Goal</h2>'
        '<div class="paragraph">Line one<br />line two</div>'
        '<div class="paragraph">&#8203;<br /></div>'
        '<div class="paragraph">[1] Please see page 23.</div>'
        '<div class="paragraph"><strong>Main target groups</strong><br />People detained.</div>'
        '<div><a class="wsite-button" href="/back.html"><span>Back to the list</span></a></div>'
    )
    p = page(programme_html(Programme("P", "Norway", FIELDS, description)))
    assert p.description == (
        "First paragraph (Butt & Tuck, 2014).\n\nSecond paragraph.\n\nThe Mentor Corps:\n\n"
        "- One;\n- Two.\n\nAfter list.\n\nGoal\n\nLine one\nline two\n\n[1] Please see page 23.\n\n"
        "Main target groups\n\nPeople detained."
    )


def test_inline_description_label() -> None:
    content = (
        "<h2 class='wsite-content-title'>P</h2><div class='paragraph'>Germany</div>"
        "<div class='paragraph'><strong>Description:</strong> Starts here.<br/><br/>Then this.</div>"
    )
    p = page(page_html("P", content))
    assert p.country == "Germany"
    assert p.description == "Starts here.\n\nThen this."


def test_nothing_from_menus_header_or_footer() -> None:
    p = page(programme_html(Programme("P", "Norway", FIELDS)))
    assert "Footer" not in (p.description or "")
    assert "Header" not in (p.description or "")
    assert p.country == "Norway"


def test_page_without_fields_is_not_a_programme() -> None:
    content = (
        "<h2 class='wsite-content-title'>Contact</h2><div class='paragraph'>Write to us.</div>"
    )
    p = page(page_html("Contact", content))
    assert not p.is_programme


def test_objectives_as_list_items() -> None:
    content = (
        "<h2 class='wsite-content-title'>P</h2><div class='paragraph'><strong>Objectives</strong>"
        "<ul><li>First aim</li><li>Second aim</li></ul></div><h2>Description</h2><p>d</p>"
    )
    p = page(page_html("P", content))
    assert p.objectives_text == "First aim\nSecond aim"


def test_windows_1252_page_decodes() -> None:
    html = programme_html(
        Programme(
            "Entré – Sweden",
            "Sweden",
            {"Name": "Entré – Sweden", "Organisation": "Kriminalvården’s unit"},
        ),
    ).replace("charset=utf-8", "charset=windows-1252")
    body = html.encode("cp1252")
    # Declared only in the HTTP header ...
    response = HtmlResponse(
        url="http://h/p.html",
        body=body,
        headers={"Content-Type": "text/html; charset=windows-1252"},
    )
    assert ProgrammePage(response.selector).organisation == "Kriminalvården’s unit"
    # ... or only in the page's meta tag.
    response = HtmlResponse(url="http://h/p.html", body=body, headers={"Content-Type": "text/html"})
    p = ProgrammePage(response.selector)
    assert (p.name, p.organisation) == ("Entré – Sweden", "Kriminalvården’s unit")


def test_model_page_from_the_real_site() -> None:
    html = (SNAPSHOT_DIR / "mentoring-programme1.html").read_bytes()
    p = page(html)
    assert p.name == "Mentoring Programme"
    assert p.country == "Norway"
    assert p.organisation == "Ministry of Justice and Public Security"
    assert p.target_audience == "Inmates convicted of hate crime and vulnerable to recruitment"
    assert p.objectives_text.startswith("Prevent inmates from using")
    assert p.description.endswith("practical assistance, and conversations.")


@pytest.mark.parametrize("path", sorted(p.name for p in Path(SNAPSHOT_DIR).glob("*.html")), ids=str)
def test_snapshot_pages_classified(path: str) -> None:
    html = (SNAPSHOT_DIR / path).read_bytes()
    is_programme = b"programme text recovered from an archived copy" in html
    p = page(html)
    assert p.is_programme == is_programme
    if p.is_programme:
        assert p.name and p.country and p.description


def test_split_objectives() -> None:
    assert split_objectives("Prevent violence; prevent contact;\nintervene early") == [
        "Prevent violence",
        "prevent contact",
        "intervene early",
    ]
    assert split_objectives("- First\n• Second;") == ["First", "Second"]
    assert split_objectives(None) == []
    assert split_objectives(" ; ") == []


def test_item_is_clean_with_nulls_and_the_title_for_a_missing_name() -> None:
    """The page object hands over clean values: nothing downstream cleans them again."""
    content = (
        "<h2 class='wsite-content-title'>Mentoring&nbsp;Programme</h2>"
        "<div class='paragraph'><strong> Norway&#8203;</strong></div>"
        "<div class='paragraph'><strong>Target audience</strong><br />&nbsp; </div>"
        "<div class='paragraph'><strong>Organisation</strong><br />Ministry of Justice</div>"
        "<div class='paragraph'><strong>Objectives</strong><br />a; b</div>"
        "<h2>Description</h2><div class='paragraph'>a \u00a0b<br /><br /><br />"
        "<ul><li>one</li><li> two&#8203;</li></ul></div>"
    )
    item = page(page_html("Mentoring Programme", content)).to_item(
        "http://h/p.html", datetime.now(UTC)
    )
    assert item.name == "Mentoring Programme"  # falls back to the title
    assert item.country == "Norway"
    assert item.target_audience is None  # never an empty string
    assert item.organisation == "Ministry of Justice"
    assert item.objectives == ["a", "b"]
    assert item.description == "a b\n\n- one\n- two"

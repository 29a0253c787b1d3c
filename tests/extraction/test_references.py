"""In-text citations: the forms the site uses, lists of them, and parentheses that are not."""

from __future__ import annotations

import pytest

from exitscrape.dataset.store import DatasetStore
from exitscrape.extraction.references import extract_references


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Forms found in the real programme texts (exitscrape/snapshot/site/).
        (
            "implementation of a mentoring scheme in the Norwegian Correctional Services "
            "(Butt & Tuck, 2014).",
            [("Butt & Tuck", 2014)],
        ),
        ("prevent (further) radicalisation of Dutch probationers (RAN, 2016).", [("RAN", 2016)]),
        (
            "The programme was born in Denmark (Radicalisation Awareness Network [RAN], 2018).",
            [("Radicalisation Awareness Network [RAN]", 2018)],
        ),
        # Other author–year forms.
        ("(RAN, 2016; Smith, 2019)", [("RAN", 2016), ("Smith", 2019)]),
        ("(Smith et al., 2017)", [("Smith et al.", 2017)]),
        ("(Butt, Tuck, & Lee, 2014)", [("Butt, Tuck, & Lee", 2014)]),
        ("(RAN, 2016, 2018)", [("RAN", 2016), ("RAN", 2018)]),
        ("(RAN 2016)", [("RAN", 2016)]),
        ("(see RAN, 2016, p. 23)", [("RAN", 2016)]),
        ("(e.g., Koehler, 2017)", [("Koehler", 2017)]),
        ("(Müller, 2015a)", [("Müller", 2015)]),
        ("(Ørsted & Ahn, 2020)", [("Ørsted & Ahn", 2020)]),
    ],
)
def test_citations_are_found(text, expected):
    assert [(r["author"], r["year"]) for r in extract_references(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "attitudes (e.g., religious, political) and",
        "non-governmental (NGO) to start",
        "mentoring (i.e., importance of finding a good match between the mentor and its inmates)",
        "the tool (VERA-2R) and (LS-CMI) and the inmate(s)",
        "founded (2014) and run (2015–2018)",
        "running (since 2016), reviewed (June 2019) and (In 2020, again)",
        "a law (Article 5, 2016)",
        "founded in Berlin (Germany, 2000) and Paris (France 2001)",
        "a mixed parenthesis (RAN, 2016; also prisons) is not a citation",
        "the programme (formerly known as ‘Taking Responsibility’) of 2016",
        "",
        None,
    ],
)
def test_other_parentheses_are_not_citations(text):
    assert extract_references(text) == []


def test_references_are_distinct_in_order_of_first_citation():
    text = "A (RAN, 2018). B (Butt & Tuck, 2014). C (RAN, 2018; RAN, 2016)."
    assert extract_references(text) == [
        {"author": "RAN", "year": 2018},
        {"author": "Butt & Tuck", "year": 2014},
        {"author": "RAN", "year": 2016},
    ]


def test_crawled_snapshot_has_the_references_of_its_texts(snapshot_versions):
    programmes = DatasetStore(snapshot_versions).read("programmes").to_pylist()
    references = {row["programme_id"]: row["references"] for row in programmes}
    assert references == {
        "back-on-track-bot-dk": [
            {"author": "Radicalisation Awareness Network [RAN]", "year": 2018}
        ],
        "exit-germany-de": [{"author": "RAN", "year": 2018}],
        "healthy-identity-intervention-hii-gb": [{"author": "RAN", "year": 2016}],
        "mentoring-programme-no": [{"author": "Butt & Tuck", "year": 2014}],
        "radicalisation-prevention-and-deradicalisation-in-prison-and-probation-de": [],
        "research-and-intervention-on-violent-extremism-rive-fr": [{"author": "RAN", "year": 2018}],
        "team-ter-terrorists-extremists-and-radicals-nl": [{"author": "RAN", "year": 2016}],
    }

"""What people who open a release meet: CSVs that a double-click opens as UTF-8 and that run no
formula, Markdown (data card, changelog) that shows hostile page text as text, a zip that
unpacks into one folder. Releases of the `edited_versions` crawls: page text that is a formula,
HTML and a Markdown link at once, a redirect whose Location holds control sequences."""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from exitscrape.dataset.store import DatasetStore
from exitscrape.release.datapackage import FORMULA_STARTS
from tests.conftest import HOSTILE_NAME
from tests.release.test_release import frictionless_validate, release

BOM = b"\xef\xbb\xbf"
RENDER = MarkdownIt("commonmark").render  # raw HTML allowed, as GitHub and most viewers do


@pytest.fixture(scope="module")
def releases(edited_versions, tmp_path_factory) -> Path:
    """The two versions released in turn: <root>/r1, <root>/r2 (and their zips)."""
    root = tmp_path_factory.mktemp("releases")
    data = shutil.copytree(edited_versions.data_dir, root / "data")
    first, second = DatasetStore(data).versions()
    for out, version in (("r1", first), ("r2", second)):
        result = release(data, root / out, version)
        assert result.returncode == 0, result.stderr
    return root


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_csv_opens_as_utf8_and_runs_no_formula(releases) -> None:
    out = releases / "r2"
    for table in ("programmes", "pages"):
        raw = (out / f"data/{table}.csv").read_bytes()
        assert raw.startswith(BOM) and not raw[3:].startswith(BOM)
        cells = [cell for row in rows(out / f"data/{table}.csv") for cell in row.values()]
        assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    programmes = {r["programme_id"]: r for r in rows(out / "data/programmes.csv")}
    assert "Her Majesty’s Prison and Probation Service (HMPPS)" in {
        r["organisation"] for r in programmes.values()
    }
    assert programmes["exit-germany-de"]["name"] == "EXIT – Germany"  # typographic dash
    (hostile,) = [r for r in programmes.values() if "onerror" in r["name"]]
    assert hostile["name"] == "'" + HOSTILE_NAME  # shown as text, never run
    assert hostile["description"].startswith("'=HYPERLINK(")
    # The Parquet copy keeps the exact text.
    table = DatasetStore(releases / "data").read("programmes").to_pylist()
    assert HOSTILE_NAME in {r["name"] for r in table}
    validation = frictionless_validate(out / "datapackage.json")
    assert validation.returncode == 0, validation.stdout + validation.stderr


def test_the_zip_unpacks_into_one_folder(releases) -> None:
    with zipfile.ZipFile(releases / "r2.zip") as archive:
        names = archive.namelist()
        assert {name.split("/")[0] for name in names} == {"r2"}
        assert "r2/datapackage.json" in names and "r2/data/programmes.csv" in names
        assert (
            archive.read("r2/data/programmes.csv")
            == (releases / "r2/data/programmes.csv").read_bytes()
        )


def test_markdown_shows_hostile_text_as_text(releases) -> None:
    card = (releases / "r2/README.md").read_text()
    changelog = (releases / "r2/CHANGELOG.md").read_text()
    for document in (card, changelog):
        html = RENDER(document)
        assert "<img" not in html
        # No link syntax outside code spans (which show their text as it is).
        outside_code = re.sub(r"`[^`]*`", "", document).replace("\\](javascript:", "")
        assert "](javascript:" not in outside_code
        assert not re.search(r'href="(?!https?:)', html)
        assert "\x1b" not in document and "\x9b" not in document
    assert "@SUM(1+1) \\<img src=x onerror=alert(1)\\> \\[x\\](javascript:alert(1)) Team TER" in (
        changelog
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in RENDER(changelog)  # shown, as text
    assert "Kingdom (1), \\[Netherlands\\](javascript:alert(1)) (1)." in card
    # The redirect's target, its control characters percent-encoded, in the card's list of gaps.
    assert "- 1 page failed or is suspect" in card
    assert "127.0.0.2/%1B%5D0;pwned" in card


def test_changelog_shows_the_changed_word_and_the_card_the_disagreement(releases) -> None:
    changelog = (releases / "r2/CHANGELOG.md").read_text()
    assert (
        "  - `description`: `… the then minister, Lord Bach, in [-February-]{+March+} 2009, who "
        "mentioned that this work …`" in changelog
    )
    card = (releases / "r2/README.md").read_text()
    disagree = card.split("- Copies disagree: 1 programme published at several URLs")[1]
    assert re.search(
        r"  - `mentoring-programme-no` \(Mentoring Programme\): http://127\.0\.0\.1:\d+/"
        r"mentoring-programme1\.html differs in `organisation`",
        disagree,
    )

"""Programme ids kept across renames (dataset/identity.py) and every programme's history
(dataset/history.py, ``exitscrape.load("history")``, ``exitscrape history``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import exitscrape
from exitscrape.cli import main
from exitscrape.dataset.history import as_of, history, history_rows
from exitscrape.dataset.identity import carry_ids
from exitscrape.dataset.schema import HISTORY, PAGES, PROGRAMMES
from exitscrape.dataset.store import DatasetError, DatasetStore
from tests.conftest import one_programme_tables

SITE = "https://www.exit-practices.eu/"
HII = "healthy-identity-intervention-hii-gb"


def programmes(*rows: dict[str, Any]) -> pa.Table:
    """A programmes table of *rows* (each: the fields that differ from an empty programme)."""
    if not rows:
        return PROGRAMMES.empty_table()
    return pa.concat_tables([one_programme_tables(**row)["programmes"] for row in rows])


def row(pid: str, *paths: str, **fields: Any) -> dict[str, Any]:
    return {
        "programme_id": pid,
        "name": pid.upper(),
        "source_urls": [SITE + p for p in paths],
        **fields,
    }


def ids(table: pa.Table) -> list[str]:
    return table.column("programme_id").to_pylist()


def test_a_renamed_programme_keeps_its_id() -> None:
    previous = programmes(row("a-x", "a.html"), row("c-x", "c.html"))
    new = programmes(row("b-x", "a.html", name="B"), row("c-x", "c.html"))
    carried = carry_ids(new, previous)
    assert ids(carried) == ["a-x", "c-x"]
    assert carried.column("name").to_pylist() == ["B", "C-X"]
    assert carried.schema == new.schema  # types and descriptions kept
    assert carry_ids(carried, previous).equals(carried)  # carrying again changes nothing


def test_nothing_to_carry_returns_the_table_itself() -> None:
    new = programmes(row("a-x", "a.html"))
    assert carry_ids(new, None) is new
    assert carry_ids(new, programmes(row("a-x", "a.html"))) is new
    assert carry_ids(new, programmes(row("z-x", "z.html"))) is new
    empty = programmes()
    assert carry_ids(empty, new) is empty


def test_an_id_the_previous_version_has_stays_with_its_programme() -> None:
    # C now also lives at A's old URL: it is C, not A renamed.
    previous = programmes(row("a-x", "a.html"), row("c-x", "c.html"))
    new = programmes(row("c-x", "a.html", "c.html"))
    assert ids(carry_ids(new, previous)) == ["c-x"]
    # A still exists (at one of its URLs): the new programme at its other URL is another one.
    previous = programmes(row("a-x", "a.html", "a2.html"))
    new = programmes(row("a-x", "a2.html"), row("b-x", "a.html"))
    assert ids(carry_ids(new, previous)) == ["a-x", "b-x"]


def test_several_matches_are_resolved_deterministically() -> None:
    # The previous programme sharing most URLs, then the smallest id.
    previous = programmes(row("p-x", "1.html"), row("q-x", "2.html", "3.html"))
    assert ids(carry_ids(programmes(row("n-x", "1.html", "2.html", "3.html")), previous)) == ["q-x"]
    previous = programmes(row("q-x", "2.html"), row("p-x", "1.html"))
    assert ids(carry_ids(programmes(row("n-x", "1.html", "2.html")), previous)) == ["p-x"]
    # Two new programmes at one previous programme's URLs: the first by id takes its id.
    previous = programmes(row("p-x", "1.html", "2.html"))
    new = programmes(row("n-x", "2.html"), row("m-x", "1.html"))
    carried = carry_ids(new, previous)
    assert ids(carried) == ["n-x", "p-x"]  # sorted by id
    assert carried.column("source_urls").to_pylist() == [[SITE + "2.html"], [SITE + "1.html"]]


def test_ids_stay_unique() -> None:
    previous = programmes(row("a-x", "a.html"), row("b-x", "b.html"))
    # A and B swapped names: each keeps the id its own name gives.
    new = programmes(row("a-x", "b.html"), row("b-x", "a.html"))
    assert ids(carry_ids(new, previous)) == ["a-x", "b-x"]
    # Both renamed, into names nobody had: each keeps its URL's id.
    new = programmes(row("c-x", "a.html"), row("d-x", "b.html"))
    assert ids(carry_ids(new, previous)) == ["a-x", "b-x"]


V1, V2, V3 = (datetime(2019, 6, 1, 12, tzinfo=UTC), datetime(2021, 3, 1, 12, tzinfo=UTC),
              datetime(2022, 1, 1, tzinfo=UTC))  # fmt: skip
TIMELINE = [
    ("v1", V1, programmes(row("hii-gb", "hii.html", organisation="NOMS"), row("rive-fr", "rive.html"))),
    ("v2", V2, programmes(row("hii-gb", "hii.html", organisation="HMPPS"), row("team-nl", "team.html"))),
    # HII renamed on the site, published as a crawl names it (its id from its new name).
    ("v3", V3, programmes(row("hii2-gb", "hii.html", name="HII 2", organisation="HMPPS"), row("team-nl", "team.html"))),
]  # fmt: skip


def test_history_rows_name_each_change() -> None:
    rows = list(history_rows(TIMELINE))
    summary = [(r["version"], r["programme_id"], r["change"], r["changed_columns"]) for r in rows]
    assert summary == [
        ("v1", "hii-gb", "added", []),
        ("v1", "rive-fr", "added", []),
        ("v2", "hii-gb", "changed", ["organisation"]),
        ("v2", "rive-fr", "removed", []),
        ("v2", "team-nl", "added", []),
        ("v3", "hii-gb", "renamed", ["name"]),
    ]
    # Each row holds the programme's values in its version; a removed one, its last values.
    assert [r["organisation"] for r in rows if r["programme_id"] == "hii-gb"] == [
        "NOMS",
        "HMPPS",
        "HMPPS",
    ]
    assert rows[3]["name"] == "RIVE-FR" and rows[3]["as_of"] == V2
    assert rows[5]["name"] == "HII 2" and rows[5]["source_urls"] == [SITE + "hii.html"]


def publish(store: DatasetStore, table: pa.Table, when: datetime | None) -> str:
    tables = {"programmes": table, "pages": PAGES.empty_table()}
    digest = str(sorted(table.to_pylist(), key=str))
    manifest = {"as_of": when.isoformat()} if when else {}
    version = store.publish(tables, digest, manifest)
    assert version is not None
    return version


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir with TIMELINE's versions, the third published first (a backfill of older
    captures after a crawl of the live site), so version names do not sort by as_of."""
    store = DatasetStore(tmp_path / "data")
    publish(store, TIMELINE[2][2], V3)
    publish(store, TIMELINE[0][2], V1)
    publish(store, TIMELINE[1][2], V2)
    return store.root


def test_history_of_a_data_dir_follows_as_of(data_dir: Path) -> None:
    store = DatasetStore(data_dir)
    third, first, second = store.versions()
    table = history(store)
    assert table.schema == HISTORY
    assert table.column("version").to_pylist() == [first, first, second, second, second, third]
    assert table.column("change").to_pylist() == [
        "added",
        "added",
        "changed",
        "removed",
        "added",
        "renamed",
    ]
    assert table.column("as_of").to_pylist() == [V1, V1, V2, V2, V2, V3]
    # Up to a version, in the same order: LATEST (the last published) is the second by as_of.
    assert store.latest() == second
    assert history(store, "latest").num_rows == history(store, second).num_rows == 5
    assert history(store, first).num_rows == 2


def test_as_of_is_the_manifests_else_its_creation_time() -> None:
    assert as_of({"as_of": "2019-06-01T12:00:00+00:00", "created_at": "2026"}) == V1
    assert as_of({"created_at": "2019-06-01T14:00:00+02:00"}) == V1
    assert as_of({"as_of": "2019-06-01T12:00:00"}) == V1  # no offset: UTC
    with pytest.raises(DatasetError, match="version v9: 'June 2019' is not an ISO 8601 time"):
        as_of({"version": "v9", "as_of": "June 2019"})


def test_load_history_as_a_dataframe(data_dir: Path) -> None:
    frame = exitscrape.load("history", data_dir=data_dir)
    assert list(frame.columns) == HISTORY.names
    assert len(frame) == 6
    renamed = frame[frame["change"] == "renamed"].iloc[0]
    assert renamed["programme_id"] == "hii-gb" and renamed["name"] == "HII 2"
    assert renamed["changed_columns"] == ["name"]
    assert renamed["source_urls"] == [SITE + "hii.html"]
    assert str(frame["as_of"].dt.tz) == "UTC"


def test_history_command(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "hii 2", "--data-dir", str(data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "HII 2  [hii-gb]"
    assert lines[1].startswith("2019-06-01 12:00:00 UTC  ") and lines[1].endswith("  added")
    assert lines[2].startswith("2021-03-01 12:00:00 UTC  ")
    assert lines[2].endswith("  changed  organisation")
    assert lines[3] == '    organisation: "NOMS" -> "HMPPS"'
    assert lines[4].endswith("  renamed  name")
    assert lines[5] == '    name: "HII-GB" -> "HII 2"'
    assert len(lines) == 6

    assert main(["history", "rive-fr", "--data-dir", str(data_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["change"] for r in rows] == ["added", "removed"]
    assert rows[1]["as_of"] == "2021-03-01 12:00:00+00:00"


def test_history_command_errors(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "nothing like it", "--data-dir", str(data_dir)]) == 2
    assert "no programme matches 'nothing like it'" in capsys.readouterr().err
    assert main(["history", "-", "--data-dir", str(data_dir)]) == 2  # RIVE-FR, TEAM-NL
    assert "matches 2 programmes" in capsys.readouterr().err
    assert main(["history", "x", "--data-dir", str(tmp_path / "empty")]) == 2
    assert "no dataset" in capsys.readouterr().err


def test_history_of_two_real_crawls(snapshot_versions: Path) -> None:
    """The snapshot crawled before and after: RIVE added, HII's organisation changed."""
    frame = exitscrape.load("history", data_dir=snapshot_versions)
    old, new = DatasetStore(snapshot_versions).versions()
    later = frame[frame["version"] == new]
    assert sorted(zip(later["programme_id"], later["change"], strict=True)) == [
        (HII, "changed"),
        ("research-and-intervention-on-violent-extremism-rive-fr", "added"),
    ]
    hii = frame[frame["programme_id"] == HII]
    assert list(hii["change"]) == ["added", "changed"]
    assert list(hii["changed_columns"]) == [[], ["organisation"]]
    assert list(hii["organisation"]) == [
        "National Offender Management Service (NOMS)",
        "Her Majesty’s Prison and Probation Service (HMPPS)",
    ]
    assert set(frame[frame["version"] == old]["change"]) == {"added"}

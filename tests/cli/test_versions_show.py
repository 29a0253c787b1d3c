"""``exitscrape versions`` and ``exitscrape show``."""

from __future__ import annotations

import json

import pytest

from exitscrape.cli.show import _value, find
from exitscrape.dataset.store import DatasetError, DatasetStore
from tests.conftest import run_cli

HII = "healthy-identity-intervention-hii-gb"


def test_versions_lists_dates_counts_and_changes(snapshot_versions):
    old, new = DatasetStore(snapshot_versions).versions()
    result = run_cli("versions", "--data-dir", str(snapshot_versions))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    old_line = next(line for line in lines if old in line)
    new_line = next(line for line in lines if new in line)
    assert old_line.split()[:6] == [old, *old_line.split()[1:3], "6", "36", "1"]
    assert "(first)" in old_line and not old_line.startswith("*")
    assert new_line.startswith("* ") and "+1 -0 ~1" in new_line
    assert new_line.split()[4:7] == ["7", "36", "0"]

    as_json = json.loads(run_cli("versions", "--data-dir", str(snapshot_versions), "--json").stdout)
    assert [v["version"] for v in as_json] == [old, new]
    assert as_json[1]["changes"] == {
        "added": 1,
        "removed": 0,
        "changed": 1,
        "added_columns": [],
        "removed_columns": [],
    }
    assert as_json[0]["created_at"] and as_json[0]["release"] is None


def test_versions_of_an_empty_data_dir_is_a_clear_error(tmp_path):
    result = run_cli("versions", "--data-dir", str(tmp_path))
    assert result.returncode == 2 and "no dataset" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_prints_one_programme_in_full(snapshot_versions):
    result = run_cli("show", HII, "--data-dir", str(snapshot_versions))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"Healthy Identity Intervention (HII)  [{HII}]")
    row = DatasetStore(snapshot_versions).read("programmes").to_pylist()
    row = next(r for r in row if r["programme_id"] == HII)
    for name in row:
        assert f"\n{name}:\n" in out
    assert "Her Majesty’s Prison and Probation Service (HMPPS)" in out
    assert "  - RAN, 2016" in out  # references
    for objective in row["objectives"]:
        assert f"  - {objective}" in out
    # The whole description, word for word (wrapping only moves line breaks).
    assert " ".join(row["description"].split()) in " ".join(out.split())


def test_show_an_older_version_as_json(snapshot_versions):
    old = DatasetStore(snapshot_versions).versions()[0]
    result = run_cli(
        "show", "healthy identity", "--version", old, "--json", "--data-dir", str(snapshot_versions)
    )
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["programme_id"] == HII
    assert row["organisation"] == "National Offender Management Service (NOMS)"


def test_show_reports_ambiguous_and_unknown_names(snapshot_versions):
    ambiguous = run_cli("show", "R", "--data-dir", str(snapshot_versions))
    assert ambiguous.returncode == 2
    assert "matches 2 programmes" in ambiguous.stderr
    assert "research-and-intervention" in ambiguous.stderr and "Traceback" not in ambiguous.stderr
    unknown = run_cli("show", "no such programme", "--data-dir", str(snapshot_versions))
    assert unknown.returncode == 2 and "no programme matches" in unknown.stderr


ROWS = [
    {"programme_id": "exit-germany-de", "name": "EXIT – Germany"},
    {"programme_id": "exit-sweden-se", "name": "Exit Sweden"},
    {"programme_id": "team-ter-nl", "name": "Team TER (Terrorists, Extremists and Radicals)"},
]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("exit-germany-de", "exit-germany-de"),  # id
        ("exit sweden", "exit-sweden-se"),  # whole name, any case
        ("EXIT-G", "exit-germany-de"),  # id prefix
        ("Team", "team-ter-nl"),  # name prefix
        ("extremists", "team-ter-nl"),  # part of a name
    ],
)
def test_find(query, expected):
    assert find(ROWS, query)["programme_id"] == expected


def test_find_prefers_an_exact_match_to_prefixes():
    rows = [*ROWS, {"programme_id": "exit", "name": "Exit"}]
    assert find(rows, "exit")["programme_id"] == "exit"
    with pytest.raises(DatasetError, match="matches 2 programmes"):
        find(ROWS, "exit")


def test_show_never_breaks_a_word_at_its_hyphen() -> None:
    # With textwrap's default, "terrorism-" would end the first line and "related" begin the next.
    lines = _value("x" * 80 + " terrorism-related offences")
    assert lines == ["  " + "x" * 80, "  terrorism-related offences"]

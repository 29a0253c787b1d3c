"""The DuckDB and Polars examples of docs/researchers.md, run as written on crawled data."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from exitscrape.dataset.store import DatasetStore
from tests.conftest import REPO

DOC = REPO / "docs" / "researchers.md"


def example(name: str) -> str:
    """The Python block that follows ``<!-- example: NAME ... -->`` in the doc."""
    pattern = rf"<!-- example: {name}\b[^>]*-->\s*```python\n(.*?)```"
    match = re.search(pattern, DOC.read_text(), re.DOTALL)
    assert match, f"no {name} example in {DOC}"
    return match.group(1)


@pytest.fixture
def workdir(snapshot_versions, tmp_path, monkeypatch) -> Path:
    """A directory holding datasets/exit_programmes, as the repository root does."""
    shutil.copytree(snapshot_versions, tmp_path / "datasets" / "exit_programmes")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(code: str) -> dict:
    namespace: dict = {"__name__": "__example__"}
    exec(compile(code, str(DOC), "exec"), namespace)
    return namespace


def expected_counts(snapshot_versions: Path, column: str) -> Counter:
    rows = DatasetStore(snapshot_versions).read("programmes").to_pylist()
    return Counter(value for row in rows for value in row[column])


def test_duckdb_example(workdir, snapshot_versions):
    namespace = run(example("duckdb"))
    by_setting = namespace["by_setting"]
    assert dict(zip(by_setting["setting"], by_setting["programmes"], strict=True)) == dict(
        expected_counts(snapshot_versions, "settings")
    )
    assert list(by_setting["programmes"]) == sorted(by_setting["programmes"], reverse=True)
    cited = namespace["cited"]
    counts = {
        (a, y): n
        for a, y, n in zip(cited["author"], cited["year"], cited["programmes"], strict=True)
    }
    assert counts == {
        ("RAN", 2016): 2,
        ("RAN", 2018): 2,
        ("Butt & Tuck", 2014): 1,
        ("Radicalisation Awareness Network [RAN]", 2018): 1,
    }


def test_polars_example(workdir, snapshot_versions):
    namespace = run(example("polars"))
    by_ideology = namespace["by_ideology"]
    assert dict(by_ideology.iter_rows()) == dict(expected_counts(snapshot_versions, "ideologies"))
    rows = DatasetStore(snapshot_versions).read("programmes").to_pylist()
    wanted = {
        r["name"] for r in rows if "prison" in r["settings"] and "islamist" in r["ideologies"]
    }
    assert set(namespace["islamist_in_prison"]["name"]) == wanted and wanted

"""The docs say what the code does: data dictionary, Quick start, lint."""

from __future__ import annotations

import re
import subprocess
import sys

import pyarrow.parquet as pq

from exitscrape.dataset.schema import TABLES, describe, markdown
from exitscrape.dataset.store import DatasetStore
from tests.conftest import REPO, one_programme_tables


def test_readme_data_dictionary_is_the_schema() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("keeps it in step with the schema -->\n", 1)[1]
    block = block.split("<!-- end of data dictionary -->", 1)[0]
    assert block == markdown(), "regenerate the README block with `exitscrape schema`"


def test_the_dictionary_spells_types_as_the_parquet_files_do(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    store.publish(one_programme_tables(), "digest", {})
    for table, schema in TABLES.items():
        written = pq.read_schema(store.table_path(table))
        for name, type_, _ in describe(schema):
            assert str(written.field(name).type) == type_, name
            assert f"| `{name}` | `{type_}` |" in markdown()


def test_quick_start_has_exactly_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert "crawl --snapshot" in commands[0] and "pytest" in commands[1]
    assert commands[1] in (REPO / ".ci" / "run").read_text()


def test_ruff_is_clean() -> None:
    for args in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr

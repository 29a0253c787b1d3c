"""The SQLite edition of a release (``exit_programmes.db`` and Datasette's ``metadata.json``): the
Parquet rows and the schema's types and descriptions, full-text search, the programme-to-pages
view, and Datasette serving it as the data card says."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from exitscrape.dataset.schema import TABLES
from exitscrape.release.sqlite import sqlite_type, sqlite_value
from tests.conftest import run_cli

MENTORING = "mentoring-programme-no"
DATASETTE = (sys.executable, "-m", "datasette", "exit_programmes.db", "-m", "metadata.json")


@pytest.fixture(scope="module")
def release(snapshot_versions: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release of the snapshot's latest crawl, built by the CLI."""
    root = tmp_path_factory.mktemp("sqlite-release")
    shutil.copytree(snapshot_versions, root / "data")
    result = run_cli("release", "--data-dir", str(root / "data"), "--out", str(root / "release"))
    assert result.returncode == 0, result.stderr
    return root / "release"


def connect(release: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{release / 'exit_programmes.db'}?mode=ro", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


@pytest.mark.parametrize("table", ["programmes", "pages"])
def test_rows_are_the_parquet_rows(release, table):
    """One row per Parquet row, every value equal: lists as JSON arrays, timestamps ISO 8601."""
    parquet = pq.read_table(release / f"data/{table}.parquet")
    key = parquet.schema.names[0]
    with connect(release) as db:
        rows = {row[key]: dict(row) for row in db.execute(f"SELECT * FROM {table}")}
    assert len(rows) == parquet.num_rows > 0
    for want in parquet.to_pylist():
        row = rows[want[key]]
        assert list(row) == parquet.schema.names
        for field in parquet.schema:
            value, cell = want[field.name], row[field.name]
            if pa.types.is_list(field.type):
                assert json.loads(cell) == value, field.name
            elif pa.types.is_timestamp(field.type):
                assert cell == (value and value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")), field.name
            else:
                assert cell == value, field.name


def test_columns_follow_the_schema(release):
    with connect(release) as db:
        for table, schema in TABLES.items():
            info = {row["name"]: row for row in db.execute(f"PRAGMA table_info({table})")}
            assert list(info) == schema.names
            for field in schema:
                column = info[field.name]
                assert column["type"] == {str: "TEXT", int: "INTEGER"}[sqlite_type(field.type)]
                assert bool(column["notnull"]) == (not field.nullable), field.name
            assert [name for name, column in info.items() if column["pk"]] == [schema.names[0]]
        types = {row["name"]: row["type"] for row in db.execute("PRAGMA table_info(pages)")}
        assert types["status"] == "INTEGER" and types["fetched_at"] == "TEXT"


def test_full_text_search_finds_each_programme_by_a_word_of_its_description(release):
    with connect(release) as db:
        programmes = db.execute("SELECT programme_id, description FROM programmes").fetchall()

        def search(query: str) -> list[str]:
            return [
                row[0]
                for row in db.execute(
                    "SELECT p.programme_id FROM programmes_fts JOIN programmes AS p "
                    "ON p.rowid = programmes_fts.rowid WHERE programmes_fts MATCH ? "
                    "ORDER BY rank",
                    (query,),
                )
            ]

        for programme_id, description in programmes:
            word = max(re.findall(r"[A-Za-z]{4,}", description), key=len)
            assert programme_id in search(f'"{word}"'), word
        assert search("Norwegian") == [MENTORING]
        # Porter stemming: a word's other forms find it too; the name column is indexed.
        assert MENTORING in search("mentor")
        assert search("name:mentoring") == [MENTORING]
        assert search("zebrafish") == []


def test_view_joins_each_programme_to_its_source_pages(release):
    with connect(release) as db:
        view = db.execute("SELECT * FROM programme_pages").fetchall()
        programmes = db.execute("SELECT programme_id, source_urls FROM programmes").fetchall()
    expected = {(pid, url) for pid, urls in programmes for url in json.loads(urls)}
    assert {(row["programme_id"], row["source_url"]) for row in view} == expected
    for row in view:
        assert row["source_url"] in (row["final_url"], row["url"])
        assert row["kind"] == "programme" and row["status"] == 200
    mentoring = sorted(row["source_url"] for row in view if row["programme_id"] == MENTORING)
    assert [url.rsplit("/", 1)[1] for url in mentoring] == [
        "mentoring-programme.html",
        "mentoring-programme1.html",
    ]


def test_metadata_describes_every_column_from_the_schema(release):
    metadata = json.loads((release / "metadata.json").read_text())
    descriptor = json.loads((release / "datapackage.json").read_text())
    assert metadata["title"] == descriptor["title"]
    assert descriptor["version"] in metadata["description"]
    assert metadata["license"] == descriptor["licenses"][0]["title"]
    assert metadata["source_url"] == descriptor["sources"][0]["path"]
    tables = metadata["databases"]["exit_programmes"]["tables"]
    for table, schema in TABLES.items():
        assert tables[table]["columns"] == {
            field.name: field.metadata[b"description"].decode() for field in schema
        }
    assert tables["programmes"]["facets"] == [
        "country",
        {"array": "settings"},
        {"array": "ideologies"},
        {"array": "regions"},
    ]
    with connect(release) as db:
        view_columns = [row["name"] for row in db.execute("PRAGMA table_info(programme_pages)")]
    assert list(tables["programme_pages"]["columns"]) == view_columns
    assert all(tables["programme_pages"]["columns"].values())


def test_release_declares_the_database(release):
    descriptor = json.loads((release / "datapackage.json").read_text())
    (resource,) = [r for r in descriptor["resources"] if r["path"] == "exit_programmes.db"]
    data = (release / "exit_programmes.db").read_bytes()
    assert resource["type"] == "file" and resource["mediatype"] == "application/vnd.sqlite3"
    assert resource["bytes"] == len(data)
    assert resource["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}"
    sums = (release / "SHA256SUMS").read_text().splitlines()
    assert f"{hashlib.sha256(data).hexdigest()}  exit_programmes.db" in sums
    assert any(line.endswith("  metadata.json") for line in sums)
    card = (release / "README.md").read_text()
    assert "datasette exit_programmes.db -m metadata.json" in card


def datasette_get(release: Path, path: str) -> str:
    """``datasette exit_programmes.db -m metadata.json --get PATH``, as the data card says."""
    result = subprocess.run(
        [*DATASETTE, "--get", path],
        cwd=release,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_datasette_serves_it_with_the_column_descriptions(release):
    page = html.unescape(datasette_get(release, "/exit_programmes/programmes?_search=mentoring"))
    for field in TABLES["programmes"]:
        assert f"<dt>{field.name}</dt><dd>{field.metadata[b'description'].decode()}</dd>" in page
    assert "Mentoring Programme" in page and "Norway" in page
    assert "Exit Practices (EU WayOut project)" in page
    assert 'id="facet-settings"' in page and 'id="facet-country"' in page


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        (pa.string(), str),
        (pa.int16(), int),
        (pa.float64(), float),
        (pa.bool_(), int),
        (pa.timestamp("us", tz="UTC"), str),
        (pa.list_(pa.string()), str),
        (pa.struct([("a", pa.int8())]), str),
    ],
)
def test_sqlite_type(type_, expected):
    assert sqlite_type(type_) is expected


def test_sqlite_type_refuses_what_it_does_not_know():
    with pytest.raises(TypeError, match="binary"):
        sqlite_type(pa.binary())


def test_sqlite_value():
    assert sqlite_value(None) is None and sqlite_value(7) == 7 and sqlite_value("x") == "x"
    assert sqlite_value(["é", "b"]) == '["é", "b"]'
    assert sqlite_value([{"author": "RAN", "year": 2016}]) == '[{"author": "RAN", "year": 2016}]'

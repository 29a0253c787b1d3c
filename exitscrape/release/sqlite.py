"""The SQLite edition of a dataset version, for Datasette: ``exit_programmes.db`` and its
``metadata.json``.

Built with sqlite-utils from the Parquet tables; column types and descriptions come from the
tables' pyarrow schema (``exitscrape/dataset/schema.py``), never from a second schema. Values are
encoded as in the CSV copies: list columns are JSON arrays, timestamps ISO 8601 in UTC. The
``programmes`` table has an FTS5 index (``programmes_fts``) over its texts, and the view
``programme_pages`` joins each programme to the pages it was found at.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from exitscrape.dataset.schema import describe
from exitscrape.release.card import SITE_URL, TITLE
from exitscrape.release.datapackage import PRIMARY_KEYS, csv_cell

DB_NAME = "exit_programmes.db"
METADATA_NAME = "metadata.json"
#: Datasette names a database after its file: /exit_programmes/programmes.
DATABASE = Path(DB_NAME).stem
FTS_COLUMNS = ("name", "organisation", "target_audience", "objectives", "description")
ARRAY_FACETS = ("settings", "ideologies", "regions")
VIEW = "programme_pages"
#: The view's columns: (programmes or pages column, its name in the view).
_VIEW_COLUMNS = (
    ("p.programme_id", "programme_id"),
    ("p.name", "name"),
    ("p.country", "country"),
    ("s.value", "source_url"),
    ("g.url", "url"),
    ("g.final_url", "final_url"),
    ("g.status", "status"),
    ("g.kind", "kind"),
    ("g.error", "error"),
    ("g.fetched_at", "fetched_at"),
    ("g.referer", "referer"),
)
VIEW_SQL = (
    "SELECT "
    + ", ".join(f"{column} AS {name}" for column, name in _VIEW_COLUMNS)
    + " FROM programmes AS p JOIN json_each(p.source_urls) AS s"
    " LEFT JOIN pages AS g ON g.final_url = s.value OR g.url = s.value"
    " ORDER BY p.name, s.value, g.url"
)
TABLE_DESCRIPTIONS = {
    "programmes": "One row per programme. Search its name, organisation, target audience, "
    "objectives and description; facet by country and category.",
    "pages": "Every URL the crawl met, and what became of it.",
    VIEW: "Each programme with the pages it was found at (`source_urls` matched to the pages' "
    "`final_url` or `url`).",
}


def sqlite_type(type_: pa.DataType) -> type:
    """The SQLite column type (as sqlite-utils names it) of an arrow type: lists and structs
    are JSON text, timestamps ISO 8601 text."""
    if pa.types.is_integer(type_) or pa.types.is_boolean(type_):
        return int
    if pa.types.is_floating(type_):
        return float
    if (
        pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_timestamp(type_)
        or pa.types.is_nested(type_)
    ):
        return str
    raise TypeError(f"no SQLite type for arrow type {type_}")


def sqlite_value(value: Any) -> Any:
    """One value as the SQLite edition stores it: lists and structs as JSON, timestamps as the
    CSV copies write them, anything else (None included) as it is."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return csv_cell(value)
    return value


def write_database(tables: dict[str, pa.Table], path: Path) -> None:
    """Write *tables* (``programmes`` and ``pages``) to a new SQLite file at *path*."""
    import sqlite_utils  # imports pandas (0.5 s): not on every command's start

    db = sqlite_utils.Database(path, recreate=True)
    try:
        for name, table in tables.items():
            schema = table.schema
            db.table(name).create(
                {field.name: sqlite_type(field.type) for field in schema},
                pk=PRIMARY_KEYS[name][0],
                not_null=[field.name for field in schema if not field.nullable],
            )
            rows = (
                {key: sqlite_value(value) for key, value in row.items()}
                for row in table.to_pylist()
            )
            db.table(name).insert_all(rows)
        db.table("pages").create_index(["final_url"])
        db.table("programmes").enable_fts(FTS_COLUMNS, tokenize="porter")
        db.create_view(VIEW, VIEW_SQL)
        db.vacuum()
    finally:
        db.close()


def datasette_metadata(
    tables: dict[str, pa.Table], description: str, license: str
) -> dict[str, Any]:
    """Datasette's metadata for the edition: title, source, licence, table and column
    descriptions (the columns' from the schema), facets. Datasette finds ``programmes_fts``."""
    columns = {
        name: {column: text for column, _, text in describe(table.schema)}
        for name, table in tables.items()
    }
    view_columns = {**columns["pages"], **columns["programmes"]}
    view_columns["source_url"] = "One of the programme's `source_urls`."
    return {
        "title": TITLE,
        "description": description,
        "license": license,
        "source": "Exit Practices (EU WayOut project)",
        "source_url": SITE_URL,
        "about": "exitscrape",
        "databases": {
            DATABASE: {
                "tables": {
                    "programmes": {
                        "description": TABLE_DESCRIPTIONS["programmes"],
                        "columns": columns["programmes"],
                        "sort": "name",
                        "facets": ["country", *({"array": c} for c in ARRAY_FACETS)],
                    },
                    "pages": {
                        "description": TABLE_DESCRIPTIONS["pages"],
                        "columns": columns["pages"],
                        "facets": ["kind", "status"],
                    },
                    VIEW: {
                        "description": TABLE_DESCRIPTIONS[VIEW],
                        "columns": {name: view_columns[name] for _, name in _VIEW_COLUMNS},
                    },
                }
            }
        },
    }


def write_edition(
    tables: dict[str, pa.Table], folder: Path, description: str, license: str
) -> tuple[Path, Path]:
    """Write ``exit_programmes.db`` and ``metadata.json`` into *folder*; their paths."""
    database, metadata = folder / DB_NAME, folder / METADATA_NAME
    write_database(tables, database)
    text = json.dumps(
        datasette_metadata(tables, description, license), indent=2, ensure_ascii=False
    )
    metadata.write_text(text + "\n")
    return database, metadata

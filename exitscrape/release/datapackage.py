"""Frictionless Table Schemas and CSV copies generated from the dataset's pyarrow schema.

CSV encoding (the one documented for spreadsheet users): UTF-8 with a byte-order mark (so that
Excel, which takes a CSV without one for the local code page, opens it as UTF-8; LibreOffice and
CSV readers take it as UTF-8 either way), RFC 4180 quoting, a header row; an empty cell is null
(the dataset never holds empty strings); list columns are JSON arrays (``["prison",
"probation"]``, ``[{"author": "RAN", "year": 2016}]``); timestamps are ISO 8601 in UTC
(``2026-11-24T19:48:46.123456Z``). A text that a spreadsheet would run as a formula (it starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: OWASP's "CSV injection") is
prefixed with ``'``, which spreadsheets show as text; the Parquet files keep the exact text.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from exitscrape.dataset.schema import describe

#: The primary key of each table, declared in its Table Schema.
PRIMARY_KEYS = {"programmes": ["programme_id"], "pages": ["url"]}
CSV_DIALECT = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True}
#: How a text cell starts when a spreadsheet would take it for a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def field_type(type_: pa.DataType) -> str:
    """The Table Schema type of an arrow type (lists are JSON arrays in CSV)."""
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return "array"
    if pa.types.is_timestamp(type_):
        return "datetime"
    if pa.types.is_integer(type_):
        return "integer"
    if pa.types.is_floating(type_):
        return "number"
    if pa.types.is_boolean(type_):
        return "boolean"
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return "string"
    raise TypeError(f"no Table Schema type for arrow type {type_}")


def table_schema(table: str, schema: pa.Schema) -> dict[str, Any]:
    """A Table Schema for *schema*: every field with its type and its description."""
    fields = []
    for field, (name, arrow_type, description) in zip(schema, describe(schema), strict=True):
        entry: dict[str, Any] = {
            "name": name,
            "type": field_type(field.type),
            "description": description,
            "arrowType": arrow_type,
        }
        if not field.nullable:
            entry["constraints"] = {"required": True}
        fields.append(entry)
    return {"fields": fields, "primaryKey": PRIMARY_KEYS[table], "missingValues": [""]}


def spreadsheet_text(text: str) -> str:
    """*text* as a spreadsheet cell that shows it, never runs it: prefixed with ``'`` when it
    starts like a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> str:
    """One value as the CSV copies write it (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, str):
        return spreadsheet_text(value)
    return str(value)


def write_csv(table: pa.Table, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(table.schema.names)
        for row in table.to_pylist():
            writer.writerow([csv_cell(row[name]) for name in table.schema.names])

"""`exitscrape.load()`: the dtypes the data dictionary names, whatever the data."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

import exitscrape
from exitscrape.dataset.load import to_pandas
from exitscrape.dataset.schema import PAGES, TABLES, pandas_type


def dtype(frame: pd.DataFrame, column: str) -> str:
    """The column's dtype as the data dictionary writes it (a list column: "object (lists)")."""
    name = str(frame.dtypes[column])
    if name == "object":
        assert all(type(value) is list for value in frame[column]), column
        return "object (lists)"
    return name


def test_dtypes_are_the_dictionary_s_with_nulls_present(edited_versions) -> None:
    for table, schema in TABLES.items():
        frame = exitscrape.load(table, data_dir=edited_versions.data_dir)
        for field in schema:
            assert dtype(frame, field.name) == pandas_type(field.type), field.name
    pages = exitscrape.load("pages", data_dir=edited_versions.data_dir)
    assert pages["status"].isna().any()  # the redirect off the site got no response...
    assert pages["status"].dtype == pd.Int16Dtype()  # ...and the column stays Int16
    assert pages["final_url"].isna().any() and pages["final_url"].dtype == "string"
    programmes = exitscrape.load(data_dir=edited_versions.data_dir)
    assert str(programmes["crawled_at"].dt.tz) == "UTC"
    copies = programmes.set_index("programme_id").loc["mentoring-programme-no", "differing_copies"]
    assert type(copies) is list and type(copies[0]["fields"]) is list  # lists, however nested


def test_dtypes_hold_for_an_all_null_or_empty_table() -> None:
    rows = [{"url": "u", "kind": "failed"}]
    for table in (pa.Table.from_pylist(rows, schema=PAGES), PAGES.empty_table()):
        frame = to_pandas(table)
        assert [dtype(frame, f.name) for f in PAGES] == [pandas_type(f.type) for f in PAGES]

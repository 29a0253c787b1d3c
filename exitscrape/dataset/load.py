"""Loading a published version into pandas, with the same dtypes whatever the data."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from exitscrape.dataset.history import history
from exitscrape.dataset.schema import pandas_type
from exitscrape.dataset.store import DatasetStore, resolve_data_dir

if TYPE_CHECKING:  # pandas is imported by pyarrow when a table is converted, not by every crawl
    import pandas as pd


def _dtype(type_: pa.DataType) -> Any:
    """The pandas dtype of a column of *type_* (as :func:`~exitscrape.dataset.schema.pandas_type`
    names it): strings as pandas' ``string`` dtype and integers as nullable integers, so a
    missing value is ``pd.NA`` and never turns a column into floats or objects; the same under
    pandas 2.2 and 3 (whose default ``str`` dtype would take NaN for missing)."""
    import pandas as pd

    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return pd.StringDtype("pyarrow")
    if pa.types.is_integer(type_):
        return pd.api.types.pandas_dtype(pandas_type(type_))
    return None  # timestamps (tz-aware), lists (made Python lists below): pyarrow's own


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A DataFrame with the dtypes of the data dictionary: ``string``, ``Int16``,
    ``datetime64[us, UTC]``, and Python lists in list columns (empty lists, never nulls)."""
    frame = table.to_pandas(types_mapper=_dtype)
    for field in table.schema:
        if pa.types.is_list(field.type):  # pandas would give NumPy arrays, nested ones too
            values = table.column(field.name).to_pylist()
            frame[field.name] = [v if v is not None else [] for v in values]
    return frame


def load(
    table: str = "programmes",
    version: str = "latest",
    data_dir: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """One table of a published version as a DataFrame.

    *table* is ``"programmes"`` or ``"pages"``, or ``"history"``: every programme's changes
    across the versions, in the order of their ``as_of`` (:mod:`exitscrape.dataset.history`),
    up to *version* unless it is ``"latest"``; *version* is ``"latest"``, a version name or an
    unambiguous prefix of one; *data_dir* defaults to ``$EXITSCRAPE_DATA_DIR``, else
    ``datasets/exit_programmes``. Column dtypes are fixed by the schema, whatever the data
    (``exitscrape schema`` lists them): ``string`` (missing: ``pd.NA``), ``Int16``,
    ``datetime64[us, UTC]``, Python lists. Raises :class:`~exitscrape.dataset.store.DatasetError`
    for a dataset or version that does not exist, and its subclass
    :class:`~exitscrape.dataset.store.DatasetDamaged`, naming the file, when the table's file is
    not the size its manifest records or cannot be read (``exitscrape verify`` hashes).
    """
    store = DatasetStore(resolve_data_dir(data_dir))
    if table == "history":
        return to_pandas(history(store, None if version == "latest" else version))
    return to_pandas(store.read(table, version))

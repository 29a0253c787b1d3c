"""Loading a published version into pandas."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pyarrow as pa

from exitscrape.dataset.history import history
from exitscrape.dataset.store import DatasetStore, resolve_data_dir

if TYPE_CHECKING:  # pandas is imported by pyarrow when a table is converted, not by every crawl
    import pandas as pd


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A DataFrame with Python lists in list columns and tz-aware UTC timestamps."""
    frame = table.to_pandas()
    for field in table.schema:
        if pa.types.is_list(field.type):
            frame[field.name] = [list(v) if v is not None else [] for v in frame[field.name]]
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
    ``datasets/exit_programmes``.
    """
    store = DatasetStore(resolve_data_dir(data_dir))
    if table == "history":
        return to_pandas(history(store, None if version == "latest" else version))
    return to_pandas(store.read(table, version))

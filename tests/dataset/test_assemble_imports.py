"""Building a crawl's tables does not import pandas (0.25 s and 40 MiB of every publishing run),
and pandas still loads the tables afterwards."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import sys
from exitscrape.dataset.assemble import to_table
from exitscrape.dataset.schema import PAGES
table = to_table([{"url": "http://x/", "kind": "other", "status": 200}], PAGES)
assert "pandas" not in sys.modules, "pandas was imported"
import exitscrape.dataset.load as load
frame = load.to_pandas(table)
assert "pandas" in sys.modules and str(frame["status"].dtype) == "Int16"
print("ok")
"""


def test_tables_are_built_without_pandas_and_load_with_it() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr

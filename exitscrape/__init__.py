"""exitscrape: crawl the Exit Practices catalogue of exit programmes into versioned Parquet.

>>> import exitscrape
>>> programmes = exitscrape.load()            # latest version, as a pandas DataFrame
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("exitscrape")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

from exitscrape.dataset.load import load

__all__ = ["__version__", "load"]

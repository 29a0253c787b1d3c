"""exitscrape: crawl the Exit Practices catalogue of exit programmes into versioned Parquet.

>>> import exitscrape
>>> programmes = exitscrape.load()            # latest version, as a pandas DataFrame
"""

from __future__ import annotations

__version__ = "0.1.0"

from exitscrape.dataset.load import load

__all__ = ["__version__", "load"]

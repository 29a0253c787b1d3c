"""exitscrape: crawl the Exit Practices catalogue of exit programmes into versioned Parquet.

>>> import exitscrape
>>> programmes = exitscrape.load()            # latest version, as a pandas DataFrame
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("exitscrape")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from exitscrape.dataset.load import load

__all__ = ["__version__", "load"]


def __getattr__(name: str) -> Any:
    """``exitscrape.load``, imported when first used: pyarrow (0.2 s) is not loaded by every
    command that imports the package, nor by the captures' writer process."""
    if name == "load":
        from exitscrape.dataset.load import load

        return load
    raise AttributeError(f"module 'exitscrape' has no attribute {name!r}")

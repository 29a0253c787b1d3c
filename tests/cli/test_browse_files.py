"""``exitscrape browse``'s cache of SQLite editions in ``<data-dir>/browse/``: modes that do not
depend on the umask, and no planted link served."""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
from pathlib import Path

from exitscrape.cli import browse
from exitscrape.dataset.store import DatasetStore
from tests.conftest import copy_data_dir


def cached_edition(data: Path) -> Path:
    with contextlib.ExitStack() as stack:
        folder, _ = browse._version(argparse.Namespace(data_dir=str(data), version=None), stack)
        assert (folder / browse.DB_NAME).stat().st_size > 0
        return folder


def test_the_browse_cache_ignores_the_umask_and_planted_links(
    crawled_snapshot: Path, tmp_path: Path
) -> None:
    data = copy_data_dir(crawled_snapshot, tmp_path)
    version = DatasetStore(data).resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / browse.DB_NAME).write_bytes(b"someone else's database")
    (data / browse.CACHE).mkdir()
    (data / browse.CACHE / version).symlink_to(elsewhere)
    assert cached_edition(data) != data / browse.CACHE / version  # a temporary copy instead
    assert (elsewhere / browse.DB_NAME).read_bytes() == b"someone else's database"

    (data / browse.CACHE / version).unlink()
    (data / browse.CACHE).rmdir()
    old = os.umask(0)
    try:
        folder = cached_edition(data)
    finally:
        os.umask(old)
    assert folder == data / browse.CACHE / version
    for path in (data / browse.CACHE, folder, *folder.iterdir()):
        assert not stat.S_IMODE(path.stat().st_mode) & 0o022, path

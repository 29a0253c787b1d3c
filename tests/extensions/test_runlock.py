"""The run lock never writes through a link planted at ``<data-dir>/.lock``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from exitscrape.extensions.runlock import LockBusy, RunLock


@pytest.mark.parametrize("plant", ["symlink", "hardlink", "fifo"])
def test_a_planted_lock_file_is_refused_and_its_target_untouched(
    tmp_path: Path, plant: str
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    lock = data / ".lock"
    if plant == "symlink":
        lock.symlink_to(victim)
    elif plant == "hardlink":
        os.link(victim, lock)
    else:
        os.mkfifo(lock)
    with pytest.raises(OSError, match="remove it"):
        RunLock(data).acquire()
    assert victim.read_text() == "precious\n"


def test_the_lock_names_its_holder_and_ignores_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        with RunLock(tmp_path / "data"):
            with pytest.raises(LockBusy, match=rf"pid {os.getpid()} on "):
                RunLock(tmp_path / "data").acquire()
            mode = stat.S_IMODE((tmp_path / "data" / ".lock").stat().st_mode)
    finally:
        os.umask(old)
    assert mode == 0o644
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o755

"""Files: writes that never follow a planted link, reads that never block or follow, modes that
do not depend on the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from exitscrape.dataset.files import atomic_write, make_dirs, read_regular


def test_atomic_write_replaces_a_planted_link_not_its_target(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    target = tmp_path / "LATEST"
    target.symlink_to(victim)
    atomic_write(target, "new\n")
    assert victim.read_text() == "keep"
    assert not target.is_symlink() and target.read_text() == "new\n"


def test_make_dirs_ignores_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        make_dirs(tmp_path / "a" / "b" / "c")
    finally:
        os.umask(old)
    for path in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o755, path
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError):
        make_dirs(tmp_path / "file")


def test_read_regular_refuses_links_fifos_and_huge_files(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_bytes(b"12345")
    assert read_regular(plain, 5) == b"12345"
    with pytest.raises(OSError, match="larger than 4 bytes"):
        read_regular(plain, 4)
    link = tmp_path / "link"
    link.symlink_to(plain)
    with pytest.raises(OSError, match="a symbolic link, not followed"):
        read_regular(link, 100)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # no writer: a plain open() would wait forever
    with pytest.raises(OSError, match="not a regular file"):
        read_regular(fifo, 100)
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing", 100)

"""Files written whole or not at all, and their checksums.

Every file exitscrape writes for a reader (a version's LATEST pointer, run reports, the
quick-check plan, cache entries, the release registry and zip) goes through
:func:`atomic_write`: the bytes go to a new temporary file beside the target, created with
``O_EXCL`` (so a file or symlink planted at a predictable temporary name is never followed),
and the temporary file is renamed over the target. A reader sees the old file or the new one,
never a torn one, whenever the writer is killed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: Mode of the files exitscrape publishes: readable by all, writable by the owner only.
FILE_MODE = 0o644


def file_sha256(path: Path) -> str:
    with path.open("rb") as file:
        return stream_sha256(file)


def stream_sha256(file: BinaryIO) -> str:
    """SHA-256 of what is left to read in *file*."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: file.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def open_regular(path: Path) -> BinaryIO:
    """*path* opened for reading, when it is a regular file: a symlink, a FIFO or a device planted
    in its place is refused with :class:`OSError`, never followed or waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "a symbolic link, not a regular file", str(path)) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return os.fdopen(fd, "rb")


def fsync_path(path: Path) -> None:
    """Flush a file's or a directory's entry to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(
    path: Path,
    data: bytes | str | Callable[[BinaryIO], object],
    *,
    durable: bool = False,
    mode: int = FILE_MODE,
) -> None:
    """Replace *path* with *data* (bytes, text as UTF-8, or a function writing to the file).

    ``durable`` fsyncs the file before the rename and the directory after it, for files whose
    loss after a power cut would matter (a published version's pointer).
    """
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            if callable(data):
                data(file)
            else:
                file.write(data.encode() if isinstance(data, str) else data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.chmod(staging, mode)
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staging)
        raise
    if durable:
        fsync_path(path.parent)

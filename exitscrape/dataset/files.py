"""Files written whole or not at all, read without following planted links, and their checksums.

Every file exitscrape writes for a reader (a version's LATEST pointer, run reports, the
quick-check plan, cache entries, the release registry and zip) goes through
:func:`atomic_write`: the bytes go to a new temporary file beside the target, created with
``O_EXCL`` (so a file or symlink planted at a predictable temporary name is never followed),
and the temporary file is renamed over the target (a symlink planted at the target is replaced,
its target untouched). A reader sees the old file or the new one, never a torn one, whenever the
writer is killed.

Files exitscrape reads back and acts on (LATEST, manifests, the plan, cache entries, run reports,
the registry) are read with :func:`read_regular`: never through a symlink, never from a FIFO or
device (which would block the run), never more than a stated size.

Modes are explicit, whatever the process's umask: directories ``0o755`` and files ``0o644``
(readable by all, writable by the owner only; a stricter umask still narrows directories).
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

#: Mode of the files exitscrape writes: readable by all, writable by the owner only.
FILE_MODE = 0o644
#: Mode of the directories it creates (the umask can only remove bits from it).
DIR_MODE = 0o755


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
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "a symbolic link, not followed", str(path)) from None
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


def make_dirs(path: Path) -> None:
    """Create *path* and its missing parents with :data:`DIR_MODE` (``mkdir -p``, whose
    parents would get ``0o777`` less the umask: world-writable under ``umask 0``)."""
    missing = []
    for directory in (path, *path.parents):
        if directory.is_dir():
            break
        missing.append(directory)
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile (or a file: raised below)
            directory.mkdir(DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(path))


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file *path*; :class:`OSError` when it is a symlink, not a
    regular file (a FIFO would block), or larger than *limit* bytes."""
    with open_regular(path) as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
    return data


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

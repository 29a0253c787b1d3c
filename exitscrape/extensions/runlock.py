"""One run per data dir: an exclusive ``flock`` on ``<data-dir>/.lock``.

The kernel releases the lock when the process holding it ends, however it ends (a crash, a
SIGKILL, a reboot), so a stale lock needs no cleanup: the next run simply gets it. The file
keeps the holder's pid, host and start time for the "busy" message.

The lock file is opened without following a symlink, and only a regular file with no other
name is used (and truncated): a symlink or hard link planted at ``.lock`` cannot make a run
overwrite the file it points to; the run refuses to start instead.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import stat
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from exitscrape.dataset.files import FILE_MODE, make_dirs

LOCK_NAME = ".lock"
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class LockBusy(Exception):
    """Another run holds the lock."""


class RunLock:
    """The lock *name* in *data_dir*: ``.lock`` for runs, another for other jobs (backfills)."""

    def __init__(self, data_dir: str | os.PathLike[str], name: str = LOCK_NAME) -> None:
        self.path = Path(data_dir) / name
        self._fd: int | None = None

    def _holder(self, fd: int) -> str:
        """Who holds (or last held) the lock, from the lock file."""
        try:
            info = json.loads(os.pread(fd, 4096, 0) or b"{}")
            return f"pid {info['pid']} on {info['host']}, since {info['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "another run"

    def _open(self) -> int:
        """The lock file, opened without following a symlink; :class:`OSError` saying what is
        wrong when something else than exitscrape's lock file is there."""
        make_dirs(self.path.parent)
        try:
            fd = os.open(self.path, _OPEN_FLAGS, FILE_MODE)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise OSError(
                    errno.ELOOP, "a symbolic link: not followed; remove it", str(self.path)
                ) from None
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            what = "not a regular file" if not stat.S_ISREG(info.st_mode) else "a hard link"
            raise OSError(errno.EPERM, f"{what}: not used; remove it", str(self.path))
        return fd

    def acquire(self) -> None:
        """Take the lock or raise :class:`LockBusy` at once (never waits)."""
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            os.close(fd)
            raise LockBusy(
                f"another run is using {self.path.parent} ({holder}); "
                "runs on one data dir cannot overlap"
            ) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with contextlib.suppress(OSError):  # a lock file left by a run under another umask
            os.fchmod(fd, FILE_MODE)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

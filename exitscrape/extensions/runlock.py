"""One run per data dir: an exclusive ``flock`` on ``<data-dir>/.lock``.

The kernel releases the lock when the process holding it ends, however it ends (a crash, a
SIGKILL, a reboot), so a stale lock needs no cleanup: the next run simply gets it. The file
keeps the holder's pid, host and start time for the "busy" message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

LOCK_NAME = ".lock"


class LockBusy(Exception):
    """Another run holds the lock."""


class RunLock:
    """The lock *name* in *data_dir*: ``.lock`` for runs, another for other jobs (backfills)."""

    def __init__(self, data_dir: str | os.PathLike[str], name: str = LOCK_NAME) -> None:
        self.path = Path(data_dir) / name
        self._fd: int | None = None

    def holder(self) -> str:
        """Who holds (or last held) the lock, from the lock file."""
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return "another run"
        if not info:
            return "another run"
        return f"pid {info.get('pid')} on {info.get('host')}, since {info.get('since')}"

    def acquire(self) -> None:
        """Take the lock or raise :class:`LockBusy` at once (never waits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Never through a symlink planted at the lock's name: the lock file is truncated below.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockBusy(
                f"another run is using {self.path.parent} ({self.holder()}); "
                "runs on one data dir cannot overlap"
            ) from None
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
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

"""Run ``exitscrape ARGS`` and stop at a point of publishing, waiting for the test's SIGKILL.

    python -m tests.pause_at POINT FLAG ARGS...

POINT is ``before-rename`` (the new version is built in its temporary folder, not yet renamed
into place) or ``before-latest`` (renamed into place, LATEST not yet moved to it). Reaching it
creates the file FLAG and waits for a signal. The kill tests stop a real run at an exact moment
this way, without a hook in exitscrape's code.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from exitscrape.cli import main
from exitscrape.dataset import store


def _pause(flag: str) -> None:
    Path(flag).touch()
    signal.pause()


def _install(point: str, flag: str) -> None:
    if point == "before-rename":
        rename = os.rename

        def pausing_rename(source: Any, target: Any) -> None:
            if Path(source).name.startswith(store._TMP_PREFIX):
                _pause(flag)
            rename(source, target)

        store.os.rename = pausing_rename  # type: ignore[assignment]
    elif point == "before-latest":
        write_latest = store.DatasetStore._write_latest

        def pausing_write_latest(self: store.DatasetStore, version: str) -> None:
            _pause(flag)
            write_latest(self, version)

        store.DatasetStore._write_latest = pausing_write_latest  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown point {point!r}")


if __name__ == "__main__":
    _install(sys.argv[1], sys.argv[2])
    sys.exit(main(sys.argv[3:]))

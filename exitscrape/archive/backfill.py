"""Backfills: the site's history from a web archive, one version per capture time that changed it.

A backfill asks the archive's CDX API when the site's pages were captured, picks at most one
capture time per period (:func:`~exitscrape.archive.cdx.capture_times`) and crawls the site as of
each, oldest first, with ``exitscrape crawl --archive ARCHIVE --at TIME`` in a subprocess (a
crawl's reactor cannot be restarted in one process). Each crawl publishes a version named by
its as_of, the capture time (``EXITSCRAPE_NAME_BY_AS_OF``), when its programmes differ from the
version before; so a backfill's versions sort by as_of.

Its state, the plan and the capture times done (with the version each published, if any), is
kept in ``<data-dir>/backfill.json``, rewritten whole after every crawl: a backfill stopped at
any moment continues where it stopped when the same command runs again. One backfill at a time
holds ``<data-dir>/.backfill.lock``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from exitscrape.archive.replay import parse_timestamp
from exitscrape.dataset.files import atomic_write
from exitscrape.dataset.store import DatasetError, DatasetStore

STATE_FILE = "backfill.json"
LOCK_NAME = ".backfill.lock"
_FORMAT = 1
#: The largest state file read: a plan of one capture time a day for a century is 1.5 MB.
_MAX_STATE_BYTES = 16 * 1024 * 1024


class BackfillError(Exception):
    """A backfill that cannot start or continue as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class BackfillSpec:
    """What a backfill was asked for: equal specs are one backfill, which can resume."""

    archive: str  # the replay endpoint
    start_url: str
    start: str  # --from, 14 digits
    end: str | None  # --to, 14 digits; None: up to when it was planned
    every: str  # the period, as given (1m, 2w, ...)


@dataclass
class Backfill:
    """A backfill's plan and progress (``<data-dir>/backfill.json``)."""

    spec: BackfillSpec
    plan: list[str]  # capture times to crawl the site as of, oldest first (14 digits)
    planned_at: str  # ISO 8601
    done: dict[str, str | None] = field(default_factory=dict)  # time -> version, None: unchanged

    @property
    def remaining(self) -> list[str]:
        return [time for time in self.plan if time not in self.done]

    def as_json(self) -> str:
        document = {"format": _FORMAT, **asdict(self)}
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Backfill:
        """The backfill *text* holds; :class:`ValueError` when it is not a valid state."""
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            raise ValueError("not a backfill state of this exitscrape")
        spec = document["spec"]
        if not isinstance(spec, dict) or set(spec) != set(BackfillSpec.__slots__):
            raise ValueError("its spec is not one")
        strings = [spec[name] for name in ("archive", "start_url", "start", "every")]
        if not all(isinstance(value, str) for value in strings):
            raise ValueError("its spec is not one")
        plan, done = document["plan"], document["done"]
        if not isinstance(plan, list) or not isinstance(done, dict):
            raise ValueError("its plan is not one")
        for time in [*plan, spec["start"], *([spec["end"]] if spec["end"] else [])]:
            parse_timestamp(time)  # also refuses what is not a string
        if not set(done) <= set(plan) or not all(
            version is None or isinstance(version, str) for version in done.values()
        ):
            raise ValueError("it records capture times its plan does not hold")
        return cls(BackfillSpec(**spec), plan, str(document["planned_at"]), done)


def read_state(data_dir: Path) -> Backfill | None:
    """The backfill state in *data_dir*, ``None`` if there is none."""
    path = data_dir / STATE_FILE
    try:
        with path.open("rb") as file:
            text = file.read(_MAX_STATE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise BackfillError(f"cannot read {path}: {error}") from None
    try:
        if len(text) > _MAX_STATE_BYTES:
            raise ValueError("it is too large")
        return Backfill.from_json(text.decode("utf-8"))
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise BackfillError(
            f"{path} is not a readable backfill state ({error}): remove it to start a new backfill"
        ) from None


def write_state(data_dir: Path, backfill: Backfill) -> None:
    atomic_write(data_dir / STATE_FILE, backfill.as_json(), durable=True)


def is_own(manifest: dict[str, Any], backfill: Backfill) -> bool:
    """Whether a version (its *manifest*) was published by *backfill*: crawled from its archive
    as of one of its capture times (also when the backfill stopped before recording it)."""
    source = manifest.get("source")
    if not isinstance(source, dict) or source.get("archive") != backfill.spec.archive:
        return False
    try:
        as_of = datetime.fromisoformat(str(manifest.get("as_of")))
    except ValueError:
        return False
    return any(parse_timestamp(time) == as_of for time in backfill.plan)


def check_data_dir(store: DatasetStore, backfill: Backfill) -> None:
    """Refuse a data dir holding a version that would sort after the backfill's first one
    (versions are named by time, a backfill's by as_of) and that the backfill did not publish."""
    first = parse_timestamp(backfill.plan[0]).strftime("%Y%m%dT%H%M%SZ")
    for version in store.versions():
        if version < first:
            continue
        try:
            manifest = store.manifest(version)
        except (OSError, ValueError, DatasetError):  # unreadable: not known to be its own
            manifest = {}
        if not is_own(manifest, backfill):
            raise BackfillError(
                f"{store.root} holds version {version}, newer than the backfill's first capture "
                f"time ({first}): a backfill's versions are named by their capture time and must "
                "come after every version already there. Backfill into a new data dir (before "
                "any crawl of the live site), or start --from after that version's time"
            )


def crawl_command(
    backfill: Backfill, at: str, data_dir: Path, settings: list[str], force: bool
) -> list[str]:
    """The ``exitscrape crawl`` that crawls the site as of *at* for *backfill*."""
    spec = backfill.spec
    command = [sys.executable, "-m", "exitscrape", "crawl", "--archive", spec.archive]
    command += ["--at", at, "--start-url", spec.start_url, "--data-dir", str(data_dir), "-q"]
    command += ["--force"] if force else []
    for pair in [*settings, "EXITSCRAPE_NAME_BY_AS_OF=True"]:
        command += ["-s", pair]
    return command


def run_crawl(command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run one crawl; its output (only errors: it runs quiet) is kept to show if it fails."""
    return subprocess.run(command, capture_output=True, text=True, check=False)


def published(store: DatasetStore, at: str) -> str | None:
    """The version a crawl as of *at* left as the latest, if its as_of is *at*."""
    latest = store.latest()
    if latest is None:
        return None
    as_of = store.manifest(latest).get("as_of")
    try:
        return latest if datetime.fromisoformat(str(as_of)) == parse_timestamp(at) else None
    except ValueError:
        return None

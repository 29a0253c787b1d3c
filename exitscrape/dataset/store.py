"""The dataset store: immutable, time-named versions of the tables, published atomically.

Layout of a data dir::

    <data-dir>/LATEST                       name of the newest version
    <data-dir>/<version>/programmes.parquet
    <data-dir>/<version>/pages.parquet
    <data-dir>/<version>/manifest.json
    <data-dir>/<version>/captures.warc.gz   the HTTP exchanges the crawl made (exitscrape.evidence)

A version is built in a hidden temporary directory, fsynced, renamed into place and only then
named in LATEST, so readers never see a partial version and a crash leaves the last one intact.
Files a run writes while it crawls (its captures) are staged in the data dir (:meth:`stage`) and
moved into the version being built, so they are published with it or not at all.

Only folders named like versions (:data:`VERSION_NAME`) are versions, and LATEST must name one:
nothing else in a data dir is ever followed (:meth:`DatasetStore.strays` lists what is ignored).
Readers hold a table to the size its manifest records; :mod:`exitscrape.dataset.verify` checks
every byte.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from exitscrape.dataset.files import (
    FILE_MODE,
    atomic_write,
    file_sha256,
    fsync_path,
    make_dirs,
    read_regular,
)
from exitscrape.dataset.schema import SCHEMA_VERSION, TABLES
from exitscrape.dataset.verify import MANIFEST, Problem, check_version, file_problem, listed_files

#: Where versions are published unless ``--data-dir`` or the ``EXITSCRAPE_DATA_DIR`` setting or
#: environment variable says otherwise (relative to the working directory).
DEFAULT_DATA_DIR = "datasets/exit_programmes"
DATA_DIR_ENV = "EXITSCRAPE_DATA_DIR"
#: Versions are named by their UTC creation time (``strftime`` format); run ids start the same.
TIME_NAME_FORMAT = "%Y%m%dT%H%M%SZ"
#: A version's name: its creation time, and ``-NNN`` for a second version in the same second.
#: Nothing else in a data dir is a version, whatever it holds.
VERSION_NAME = re.compile(r"[0-9]{8}T[0-9]{6}Z(?:-[0-9]{3,})?")
_TMP_PREFIX = ".tmp-"
#: Files this process staged (:meth:`DatasetStore.stage`): the running crawl's, not leftovers.
_STAGED_HERE: set[str] = set()
LATEST = "LATEST"
# Files read back are never larger than this (a planted huge file is refused, not read).
_LATEST_LIMIT = 1024
_MANIFEST_LIMIT = 16 << 20


class DatasetError(Exception):
    """A dataset or version that does not exist or cannot be read."""


class DatasetDamaged(DatasetError):
    """A file of a published version is damaged: missing, truncated, changed or unreadable."""


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """``data_dir`` if given, else ``$EXITSCRAPE_DATA_DIR``, else ``datasets/exit_programmes``."""
    return Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def is_version_name(name: str) -> bool:
    """Whether *name* is a version's name (see :data:`VERSION_NAME`), a real UTC time."""
    if not VERSION_NAME.fullmatch(name):
        return False
    try:
        datetime.strptime(name[:16], TIME_NAME_FORMAT)
    except ValueError:
        return False
    return True


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _reason(error: Exception) -> str:
    """An error in words, without the path the message already names."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


class DatasetStore:
    """Versions of the dataset under one data dir."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _is_version(self, name: str) -> bool:
        """A folder (not a symlink) with a version's name and a manifest."""
        try:
            is_dir = stat.S_ISDIR(os.lstat(self.root / name).st_mode)
        except OSError:
            return False
        return is_dir and is_version_name(name) and _is_regular(self.root / name / MANIFEST)

    def _entries(self) -> list[str]:
        try:
            return os.listdir(self.root)
        except (FileNotFoundError, NotADirectoryError):
            return []

    def versions(self) -> list[str]:
        """Complete versions, oldest first."""
        return sorted(name for name in self._entries() if self._is_version(name))

    def strays(self) -> list[Problem]:
        """Entries that look like versions and are not, so are ignored: a folder with a
        manifest under another name, a version's name on a symlink or a folder without one."""
        problems = []
        for name in sorted(self._entries()):
            if name.startswith(".") or self._is_version(name):
                continue
            if is_version_name(name):
                problems.append(Problem(name, "not a version folder with a manifest: ignored"))
            elif (self.root / name).is_dir() and (self.root / name / MANIFEST).exists():
                problems.append(Problem(name, "not a version name (YYYYMMDDTHHMMSSZ): ignored"))
        return problems

    def _latest(self) -> tuple[str | None, str]:
        """The version LATEST names, or ``None`` and what is wrong with LATEST."""
        try:
            text = read_regular(self.root / LATEST, _LATEST_LIMIT).decode("utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None, "is missing"
        except (OSError, UnicodeDecodeError) as error:
            return None, f"cannot be read ({_reason(error)})"
        if not is_version_name(text):
            return None, f"names {text[:40]!r}, which is not a version name"
        if not self._is_version(text):
            return None, f"names {text}, which is not a version of this data dir"
        return text, ""

    def latest(self) -> str | None:
        """The version LATEST names; ``None`` before the first publish, or when LATEST does not
        name a version of this data dir (:meth:`resolve` says what is wrong)."""
        return self._latest()[0]

    def latest_problem(self) -> str | None:
        """What is wrong with LATEST (``"is missing"``, ...), ``None`` when it names a version."""
        latest, problem = self._latest()
        return None if latest else problem

    def _no_dataset(self) -> DatasetError:
        if self.root.exists() and not self.root.is_dir():
            return DatasetError(f"the data dir {self.root} is not a directory")
        return DatasetError(
            f"no dataset in {self.root}: run `exitscrape crawl` first "
            f"(or pass --data-dir / set {DATA_DIR_ENV})"
        )

    def resolve(self, version: str = "latest") -> str:
        """A version name from ``latest``, a full name or an unambiguous prefix."""
        versions = self.versions()
        if not versions:
            raise self._no_dataset()
        if version == "latest":
            latest, problem = self._latest()
            if latest is not None:
                return latest
            raise DatasetError(
                f"{self.root / LATEST} {problem}, though {self.root} holds {len(versions)} "
                f"version(s), the newest {versions[-1]}: the next `exitscrape crawl` names the "
                f"newest complete version in LATEST, or name one yourself "
                f"(echo {versions[-1]} > {self.root / LATEST})"
            )
        if not version:
            raise DatasetError(
                "an empty version: give a version's name (YYYYMMDDTHHMMSSZ), the start of one, "
                "or 'latest'"
            )
        if version in versions:
            return version
        matches = [v for v in versions if v.startswith(version)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(matches[:10]) + (", ..." if len(matches) > 10 else "")
            raise DatasetError(
                f"version {version!r} is ambiguous: {len(matches)} versions start with it "
                f"({shown}); give more of the name"
            )
        raise DatasetError(
            f"no version {version[:40]!r} in {self.root} "
            f"(latest versions: {', '.join(versions[-5:])})"
        )

    def _manifest_or_problem(self, name: str) -> tuple[dict[str, Any] | None, str]:
        try:
            manifest = json.loads(read_regular(self.root / name / MANIFEST, _MANIFEST_LIMIT))
        except (OSError, ValueError) as error:
            return None, f"cannot be read ({_reason(error)})"
        if not isinstance(manifest, dict):
            return None, "not a manifest (no JSON object)"
        return manifest, ""

    def _read_manifest(self, name: str) -> dict[str, Any]:
        manifest, problem = self._manifest_or_problem(name)
        if manifest is None:
            raise DatasetDamaged(f"{self.root / name / MANIFEST}: {problem}")
        return manifest

    def manifest(self, version: str = "latest") -> dict[str, Any]:
        return self._read_manifest(self.resolve(version))

    def verify(self, version: str, deep: bool = True) -> list[Problem]:
        """The problems of the version named *version* (every file hashed when ``deep``)."""
        manifest, problem = self._manifest_or_problem(version)
        if manifest is None:
            return [Problem(f"{version}/{MANIFEST}", problem)]
        return check_version(self.root / version, manifest, deep)

    def table_path(self, table: str, version: str = "latest") -> Path:
        if table not in TABLES:
            raise DatasetError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        return self.root / self.resolve(version) / f"{table}.parquet"

    def read(
        self,
        table: str = "programmes",
        version: str = "latest",
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """A table with the current schema's types and descriptions; a version written under an
        older schema keeps its own columns (no column it lacks appears as nulls). *columns*:
        only these (those the version has), in the schema's order.

        The file is held to the size its manifest records and must read as Parquet, else
        :class:`DatasetDamaged` names it; its SHA-256 is not computed on every read
        (``exitscrape verify`` does that).
        """
        path = self.table_path(table, version)
        files = listed_files(self._read_manifest(path.parent.name))
        problem = (
            file_problem(path, files[path.name], deep=False)
            if path.name in files
            else "not listed in its version's manifest"
        )
        if problem is None:
            try:
                # ParquetFile, not pq.read_table: that imports pandas (0.2 s), which a rerun
                # never needs.
                parquet = pq.ParquetFile(path)
                present = set(parquet.schema_arrow.names)
                wanted = present if columns is None else present & set(columns)
                schema = pa.schema([f for f in TABLES[table] if f.name in wanted])
                return parquet.read(columns=schema.names).select(schema.names).cast(schema)
            except (OSError, ValueError, pa.ArrowException) as error:
                problem = f"cannot be read as Parquet ({_reason(error)})"
        raise DatasetDamaged(
            f"{path}: {problem}; the version is damaged (`exitscrape verify` checks every file)"
        )

    def _new_version_name(self, named_at: datetime | None) -> str:
        name = (named_at or datetime.now(UTC)).astimezone(UTC).strftime(TIME_NAME_FORMAT)
        existing = self.versions()
        if existing and name <= existing[-1]:
            base = existing[-1].split("-")[0]
            if named_at is not None and name < base:
                raise DatasetError(
                    f"cannot publish a version named {name} (its as_of) in {self.root}: it would "
                    f"sort before the latest version, {existing[-1]}"
                )
            # Two publishes in one second (or a clock step back): keep names sorting by time.
            count = int(existing[-1].split("-")[1]) + 1 if "-" in existing[-1] else 1
            name = f"{base}-{count:03d}"
        return name

    def stage(self, suffix: str) -> tuple[Path, BinaryIO]:
        """A new, empty file in the data dir (hidden, created with ``O_EXCL``) and the file open
        for writing: for a file to publish with the next version (``publish(files=...)``), on the
        data dir's filesystem so that publishing moves it in one rename. Remove it if it is not
        published. It is this process's: :meth:`recover` leaves it, and removes one that a killed
        run left."""
        make_dirs(self.root)
        fd, name = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=suffix, dir=self.root)
        _STAGED_HERE.add(os.path.abspath(name))
        return Path(name), os.fdopen(fd, "wb")

    def recover(self) -> str | None:
        """Finish what a run killed mid-publish left: remove its half-built version and staging
        files, and name the newest complete version in LATEST when LATEST names another or
        nothing usable. Returns what was wrong with LATEST, if it was rewritten."""
        self._remove_leftovers()
        versions = self.versions()
        latest, problem = self._latest()
        if not versions or versions[-1] == latest:
            return None
        # A run killed after renaming its complete version into place, before naming it in
        # LATEST: finish its publish rather than publish the same data again.
        self._write_latest(versions[-1])
        return f"LATEST {problem or f'named {latest}'}; it now names {versions[-1]}"

    def publish(
        self,
        tables: dict[str, pa.Table],
        digest: str,
        manifest: dict[str, Any],
        *,
        past_damaged: bool = False,
        named_at: datetime | None = None,
        files: Mapping[str, Path] | None = None,
    ) -> str | None:
        """Publish *tables* as a new version; ``None`` when the programmes equal the latest's,
        unless the latest is damaged (``past_damaged``): then the new version replaces it.

        The version is named by the time of publishing, or by *named_at* (a backfill's as_of):
        :class:`DatasetError` when that name would sort before the latest version's. *files*
        maps a name in the version to a file staged in the data dir (:meth:`stage`), moved into
        the version (and listed in its manifest) when one is published."""
        files = dict(files or {})
        for name in files:
            if name in ("", ".", "..", MANIFEST) or "/" in name or name.endswith(".parquet"):
                raise ValueError(f"not a name for a version's extra file: {name!r}")
        make_dirs(self.root)
        self.recover()
        parent = self.latest()
        if (
            parent is not None
            and not past_damaged
            and self._read_manifest(parent).get("programmes_digest") == digest
        ):
            return None
        version = self._new_version_name(named_at)
        tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=self.root))
        try:
            listed = {}
            for name, table in tables.items():
                path = tmp / f"{name}.parquet"
                pq.write_table(table.cast(TABLES[name]), path, compression="zstd")
                os.chmod(path, FILE_MODE)  # pyarrow creates it as the umask says
                fsync_path(path)
                listed[path.name] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
            for name, staged in files.items():
                path = tmp / name
                os.replace(staged, path)  # staged in the data dir: a rename, never a copy
                os.chmod(path, FILE_MODE)
                fsync_path(path)
                listed[name] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
            full_manifest = {
                "version": version,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "schema_version": SCHEMA_VERSION,
                "parent": parent,
                "programmes_digest": digest,
                "rows": {name: table.num_rows for name, table in tables.items()},
                "files": listed,
                **manifest,
            }
            atomic_write(
                tmp / MANIFEST,
                json.dumps(full_manifest, indent=2, default=str) + "\n",
                durable=True,
            )
            os.chmod(tmp, 0o755)
            os.rename(tmp, self.root / version)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_path(self.root)
        self._write_latest(version)
        return version

    def _remove_leftovers(self) -> None:
        """Remove what a killed run left: its version being built, its staged files (not this
        process's), a LATEST being written (a symlink planted under such a name is removed,
        never followed)."""
        for name in self._entries():
            leftover = self.root / name
            if os.path.abspath(leftover) in _STAGED_HERE:
                continue
            if name.startswith(f".{LATEST}.") and name.endswith(".tmp"):
                leftover.unlink(missing_ok=True)
            elif name.startswith(_TMP_PREFIX):
                if leftover.is_symlink() or not leftover.is_dir():
                    leftover.unlink(missing_ok=True)
                else:
                    shutil.rmtree(leftover, ignore_errors=True)

    def _write_latest(self, version: str) -> None:
        atomic_write(self.root / LATEST, version + "\n", durable=True)

"""The dataset store: immutable, time-named versions of the tables, published atomically.

Layout of a data dir::

    <data-dir>/LATEST                       name of the newest version
    <data-dir>/<version>/programmes.parquet
    <data-dir>/<version>/pages.parquet
    <data-dir>/<version>/manifest.json

A version is built in a hidden temporary directory, fsynced, renamed into place and only then
named in LATEST, so readers never see a partial version and a crash leaves the last one intact.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from exitscrape.dataset.files import atomic_write, file_sha256, fsync_path
from exitscrape.dataset.schema import SCHEMA_VERSION, TABLES

#: Where versions are published unless ``--data-dir`` or the ``EXITSCRAPE_DATA_DIR`` setting or
#: environment variable says otherwise (relative to the working directory).
DEFAULT_DATA_DIR = "datasets/exit_programmes"
DATA_DIR_ENV = "EXITSCRAPE_DATA_DIR"
#: Versions are named by their UTC creation time (``strftime`` format); run ids start the same.
TIME_NAME_FORMAT = "%Y%m%dT%H%M%SZ"
_TMP_PREFIX = ".tmp-"
LATEST = "LATEST"


class DatasetError(Exception):
    """A dataset or version that does not exist or cannot be read."""


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """``data_dir`` if given, else ``$EXITSCRAPE_DATA_DIR``, else ``datasets/exit_programmes``."""
    return Path(data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


class DatasetStore:
    """Versions of the dataset under one data dir."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def versions(self) -> list[str]:
        """Complete versions, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / "manifest.json").is_file()
        )

    def latest(self) -> str | None:
        """The version LATEST names, or ``None`` before the first publish."""
        try:
            name = (self.root / LATEST).read_text().strip()
        except FileNotFoundError:
            return None
        return name if name and (self.root / name / "manifest.json").is_file() else None

    def resolve(self, version: str = "latest") -> str:
        """A version name from ``latest``, a full name or an unambiguous prefix."""
        latest = self.latest()
        if latest is None:
            raise DatasetError(
                f"no dataset in {self.root}: run `exitscrape crawl` first "
                f"(or pass --data-dir / set {DATA_DIR_ENV})"
            )
        if version == "latest":
            return latest
        versions = self.versions()
        matches = [v for v in versions if v == version] or [
            v for v in versions if v.startswith(version)
        ]
        if len(matches) != 1:
            known = ", ".join(versions[-5:]) or "none"
            raise DatasetError(
                f"no single version {version!r} in {self.root} (latest versions: {known})"
            )
        return matches[0]

    def manifest(self, version: str = "latest") -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads(
            (self.root / self.resolve(version) / "manifest.json").read_text()
        )
        return manifest

    def table_path(self, table: str, version: str = "latest") -> Path:
        if table not in TABLES:
            raise DatasetError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        return self.root / self.resolve(version) / f"{table}.parquet"

    def read(self, table: str = "programmes", version: str = "latest") -> pa.Table:
        """A table with the current schema's types and descriptions; a version written under an
        older schema keeps its own columns (no column it lacks appears as nulls)."""
        path = self.table_path(table, version)
        # ParquetFile, not pq.read_table: that imports pandas (0.2 s), which a rerun never needs.
        parquet = pq.ParquetFile(path)
        present = set(parquet.schema_arrow.names)
        schema = pa.schema([f for f in TABLES[table] if f.name in present])
        return parquet.read(columns=schema.names).select(schema.names).cast(schema)

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

    def publish(
        self,
        tables: dict[str, pa.Table],
        digest: str,
        manifest: dict[str, Any],
        named_at: datetime | None = None,
    ) -> str | None:
        """Publish *tables* as a new version; ``None`` when the programmes equal the latest's.

        The version is named by the time of publishing, or by *named_at* (a backfill's as_of):
        :class:`DatasetError` when that name would sort before the latest version's."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers()
        versions = self.versions()
        if versions and versions[-1] != self.latest():
            # A run killed after renaming its complete version into place, before naming it in
            # LATEST: finish its publish rather than publish the same data again.
            self._write_latest(versions[-1])
        parent = self.latest()
        if parent is not None and self.manifest(parent).get("programmes_digest") == digest:
            return None
        version = self._new_version_name(named_at)
        tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=self.root))
        try:
            files = {}
            for name, table in tables.items():
                path = tmp / f"{name}.parquet"
                pq.write_table(table.cast(TABLES[name]), path, compression="zstd")
                fsync_path(path)
                files[path.name] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
            full_manifest = {
                "version": version,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "schema_version": SCHEMA_VERSION,
                "parent": parent,
                "programmes_digest": digest,
                "rows": {name: table.num_rows for name, table in tables.items()},
                "files": files,
                **manifest,
            }
            atomic_write(
                tmp / "manifest.json",
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
        """Remove what a run killed mid-publish left: its version being built, a LATEST being
        written."""
        for leftover in self.root.glob(_TMP_PREFIX + "*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.root.glob(f".{LATEST}.*.tmp"):
            leftover.unlink(missing_ok=True)

    def _write_latest(self, version: str) -> None:
        atomic_write(self.root / LATEST, version + "\n", durable=True)

"""Build a release folder (and a zip of it) from a dataset version, and record it.

Releases are recorded in ``<data-dir>/releases.json``, next to the versions they were built from:
the next release finds its predecessor there, diffs the two dataset versions for its number and
its changelog, and repeats the earlier changelog sections. Releasing a version already released
rebuilds the same release (same number, date and changelog).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from exitscrape.dataset.diff import Diff, diff_tables
from exitscrape.dataset.files import atomic_write, file_sha256
from exitscrape.dataset.store import DatasetError, DatasetStore
from exitscrape.release.card import SITE_URL, TITLE, CardFacts, data_card
from exitscrape.release.changelog import changelog, section
from exitscrape.release.datapackage import CSV_DIALECT, table_schema, write_csv
from exitscrape.release.semver import FIRST, bump, change_level
from exitscrape.release.sqlite import DB_NAME, write_edition

REGISTRY = "releases.json"
PACKAGE_NAME = "exit-programmes"
TABLE_NAMES = ("programmes", "pages")
LICENSE = {
    "name": "LicenseRef-unknown",
    "title": "Unknown: the source site states no licence. Check the terms with the Exit Practices "
    "site owners before republishing (see README.md, Licence).",
}


class ReleaseError(DatasetError):
    """A release that cannot be built as asked."""


@dataclass
class Release:
    release: str
    level: str  # "first", "major", "minor", "patch"
    version: str
    folder: Path
    zip: Path
    previous: dict[str, Any] | None
    diff: Diff | None
    rebuilt: bool


def read_registry(store: DatasetStore) -> list[dict[str, Any]]:
    """The recorded releases, oldest first."""
    path = store.root / REGISTRY
    if not path.exists():
        return []
    try:
        return sorted(json.loads(path.read_text())["releases"], key=lambda r: r["dataset_version"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ReleaseError(f"cannot read the release registry {path}: {error}") from error


def _write_registry(store: DatasetStore, releases: list[dict[str, Any]]) -> None:
    document = json.dumps({"releases": releases}, indent=2, ensure_ascii=False) + "\n"
    atomic_write(store.root / REGISTRY, document)


@dataclass(frozen=True)
class _Numbering:
    """Where a new release stands against the previous one."""

    previous: dict[str, Any] | None  # the previous release's registry entry
    diff: Diff | None  # against the previous release's dataset version
    level: str
    release: str


def _numbering(store: DatasetStore, version: str, releases: list[dict[str, Any]]) -> _Numbering:
    """The number (and why) of a new release of *version*."""
    later = [r for r in releases if r["dataset_version"] > version]
    if later:
        raise ReleaseError(
            f"version {version} is older than the last release ({later[-1]['release']}, from "
            f"{later[-1]['dataset_version']}): releases only move forward"
        )
    if not releases:
        return _Numbering(None, None, "first", FIRST)
    previous = releases[-1]
    try:
        old = store.read("programmes", previous["dataset_version"])
    except (DatasetError, OSError) as error:
        raise ReleaseError(
            f"the previous release {previous['release']} was built from dataset version "
            f"{previous['dataset_version']}, which cannot be read ({error}); it is needed to "
            "compute the release number and changelog"
        ) from error
    diff = diff_tables(old, store.read("programmes", version))
    schema_changed = previous.get("schema_version") != store.manifest(version).get("schema_version")
    level = change_level(diff, schema_changed)
    return _Numbering(previous, diff, level, bump(previous["release"], level))


def _resource(
    folder: Path, name: str, path: str, fmt: str, schema: dict[str, Any]
) -> dict[str, Any]:
    file = folder / path
    resource: dict[str, Any] = {
        "name": f"{name}-{fmt}",
        "path": path,
        "format": fmt,
        "mediatype": "text/csv" if fmt == "csv" else "application/vnd.apache.parquet",
        "encoding": "utf-8",
        "bytes": file.stat().st_size,
        "hash": f"sha256:{file_sha256(file)}",
        "schema": schema,
    }
    if fmt == "csv":
        resource["dialect"] = CSV_DIALECT
    else:
        # Frictionless cannot read Parquet list columns: it checks this file's bytes and hash;
        # the CSV copy, with the same schema and rows, is the one whose rows it validates.
        resource["type"] = "file"
        del resource["encoding"]
    return resource


def _descriptor(
    folder: Path,
    release: str,
    created: str,
    manifest: dict[str, Any],
    schemas: dict[str, dict[str, Any]],
    previous: dict[str, Any] | None,
    level: str,
) -> dict[str, Any]:
    resources = [
        _resource(folder, table, f"data/{table}.{fmt}", fmt, schemas[table])
        for table in TABLE_NAMES
        for fmt in ("parquet", "csv")
    ]
    # Frictionless checks the SQLite edition's bytes and hash only, as a plain file.
    resources.append(
        {
            "name": "exit-programmes-sqlite",
            "type": "file",
            "path": DB_NAME,
            "format": "sqlite",
            "mediatype": "application/vnd.sqlite3",
            "description": "Both tables in SQLite (lists as JSON arrays, full-text search on "
            f"programmes), for Datasette: `datasette {DB_NAME} -m metadata.json`.",
            "bytes": (folder / DB_NAME).stat().st_size,
            "hash": f"sha256:{file_sha256(folder / DB_NAME)}",
        }
    )
    return {
        "name": PACKAGE_NAME,
        "title": TITLE,
        "description": "Exit programmes for people leaving violent extremism, in prison and "
        "probation, as catalogued by the Exit Practices site of the EU WayOut project. "
        "See README.md (the data card) for provenance, coverage, limitations and citation.",
        "version": release,
        "created": created,
        "keywords": [
            "violent extremism",
            "deradicalisation",
            "disengagement",
            "exit programmes",
            "prison",
            "probation",
        ],
        "licenses": [LICENSE],
        "sources": [{"title": "Exit Practices (EU WayOut project)", "path": SITE_URL}],
        "resources": resources,
        "exitscrape": {
            "dataset_version": manifest["version"],
            "schema_version": manifest.get("schema_version"),
            "crawled_at": manifest["created_at"],
            "start_url": manifest.get("start_url"),
            "exitscrape_version": manifest.get("exitscrape_version"),
            "previous_release": previous["release"] if previous else None,
            "change_level": level,
        },
    }


def _sha256sums(folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    lines = [f"{file_sha256(p)}  {p.relative_to(folder).as_posix()}" for p in files]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def _zip(folder: Path, target: Path, created: str) -> None:
    """A zip of *folder*'s files at its root, where frictionless looks for datapackage.json, with
    fixed timestamps (reproducible)."""
    stamp = datetime.fromisoformat(created).timetuple()[:6]

    def write(file: BinaryIO) -> None:
        with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())

    atomic_write(target, write)


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"--out {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ReleaseError(
            f"--out {out} exists and is not empty: choose a new folder, or pass --force to "
            "replace it"
        )


def build_release(
    store: DatasetStore, out: Path | str, version: str = "latest", force: bool = False
) -> Release:
    """Build the release of *version* into the folder *out* (plus ``<out>.zip``) and record it."""
    out = Path(out).resolve()
    version = store.resolve(version)
    _check_out(out, force)
    releases = read_registry(store)
    manifest = store.manifest(version)
    tables = {name: store.read(name, version) for name in TABLE_NAMES}
    recorded = next((r for r in releases if r["dataset_version"] == version), None)
    diff: Diff | None = None
    if recorded:
        earlier = [r for r in releases if r["dataset_version"] < version]
        previous = earlier[-1] if earlier else None
        number, level, created = recorded["release"], recorded["level"], recorded["created"]
        current_section = recorded["changelog"]
    else:
        earlier = releases
        numbering = _numbering(store, version, releases)
        previous, diff, level, number = (
            numbering.previous,
            numbering.diff,
            numbering.level,
            numbering.release,
        )
        created = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        schema_versions = (
            (previous.get("schema_version", "?"), manifest.get("schema_version", "?"))
            if previous
            else None
        )
        current_section = section(
            number,
            created[:10],
            version,
            tables["programmes"].to_pylist(),
            previous,
            diff,
            level,
            schema_versions,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        data = tmp / "data"
        data.mkdir()
        for name, table in tables.items():
            shutil.copyfile(store.table_path(name, version), data / f"{name}.parquet")
            write_csv(table, data / f"{name}.csv")
        files = [(p.relative_to(tmp).as_posix(), p.stat().st_size) for p in sorted(data.iterdir())]
        write_edition(
            tables,
            tmp,
            f"Release {number} ({created[:10]}) of {PACKAGE_NAME}, from dataset version "
            f"{version} (crawled {manifest['created_at']}). The release's README.md says where "
            "the data comes from, how far to trust it and how to cite it.",
            LICENSE["title"],
        )
        facts = CardFacts(number, created[:10], f"{PACKAGE_NAME}-{number}", manifest, tables, files)
        (tmp / "README.md").write_text(data_card(facts))
        sections = [current_section, *(r["changelog"] for r in reversed(earlier))]
        (tmp / "CHANGELOG.md").write_text(changelog(sections))
        schemas = {name: table_schema(name, table.schema) for name, table in tables.items()}
        descriptor = _descriptor(tmp, number, created, manifest, schemas, previous, level)
        (tmp / "datapackage.json").write_text(
            json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
        )
        _sha256sums(tmp)
        os.chmod(tmp, 0o755)
        if out.exists():
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    archive = out.with_name(f"{out.name}.zip")
    _zip(out, archive, created)
    if not recorded:
        entry = {
            "release": number,
            "dataset_version": version,
            "created": created,
            "schema_version": manifest.get("schema_version"),
            "level": level,
            "rows": manifest.get("rows"),
            "out": str(out),
            "changelog": current_section,
        }
        try:
            _write_registry(store, [*releases, entry])
        except OSError as error:
            raise ReleaseError(
                f"release {number} was built in {out} but could not be recorded in "
                f"{store.root / REGISTRY}: {error}"
            ) from error
    return Release(number, level, version, out, archive, previous, diff, bool(recorded))

"""Build a release folder (and a zip of it) from a dataset version, and record it.

Releases are recorded in ``<data-dir>/releases.json``, next to the versions they were built from:
the next release finds its predecessor there, diffs the two dataset versions for its number and
its changelog, and repeats the earlier changelog sections. Releasing a version already released
rebuilds the same release (same number, date and changelog).

A release is all or nothing: the folder and the zip are built under temporary names beside their
targets and renamed into place, then recorded; a failure at any step (a read-only data dir, a
full disk) removes what was built and puts back what was there. ``--force`` replaces only what is
provably an earlier release (:func:`not_a_release`, :func:`not_a_release_zip`): never the data
dir or a folder around it, never a folder holding anything the release did not write.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exitscrape.dataset.diff import Diff, diff_tables
from exitscrape.dataset.files import (
    DIR_MODE,
    FILE_MODE,
    atomic_write,
    file_sha256,
    make_dirs,
    read_regular,
)
from exitscrape.dataset.store import DatasetDamaged, DatasetError, DatasetStore
from exitscrape.dataset.wording import plural
from exitscrape.evidence.writer import CAPTURES_FILE
from exitscrape.release.card import SITE_URL, TITLE, CardFacts, data_card
from exitscrape.release.changelog import changelog, section
from exitscrape.release.datapackage import CSV_DIALECT, table_schema, write_csv
from exitscrape.release.semver import FIRST, bump, change_level
from exitscrape.release.sqlite import DB_NAME, write_edition
from exitscrape.release.wacz import WACZ_FILE, page_list, write_wacz

REGISTRY = "releases.json"
SUMS = "SHA256SUMS"
_REGISTRY_LIMIT = 64 << 20
#: A zip whose files would unpack to more than this is not taken for a release (nor hashed).
_ZIP_LIMIT = 4 << 30
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
    if not os.path.lexists(path):
        return []
    try:
        releases = json.loads(read_regular(path, _REGISTRY_LIMIT))["releases"]
        return sorted(releases, key=lambda r: r["dataset_version"])
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


def _evidence_resource(folder: Path) -> dict[str, Any]:
    """The Data Package resource of the release's captures (a file, checked by its hash)."""
    file = folder / WACZ_FILE
    return {
        "name": "captures",
        "path": WACZ_FILE,
        "type": "file",
        "format": "wacz",
        "mediatype": "application/wacz",
        "bytes": file.stat().st_size,
        "hash": f"sha256:{file_sha256(file)}",
        "description": "Every HTTP response the crawl received, as a web archive (WARC in a "
        "WACZ): the evidence each value was extracted from. Open it in ReplayWeb.page or pywb "
        "(README.md, Checking a value against its source).",
    }


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
    if (folder / WACZ_FILE).is_file():
        resources.append(_evidence_resource(folder))
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
    (folder / SUMS).write_text("\n".join(lines) + "\n")


def _zip(folder: Path, target: Path, created: str, top: str) -> Path:
    """A zip of *folder*'s files in one top-level folder *top* (unzipping ``DIR.zip`` gives
    ``DIR/``, never files strewn where it is opened), with fixed timestamps (reproducible),
    written to a new temporary file beside *target*: returns that file's path, for the caller to
    rename into place."""
    stamp = datetime.fromisoformat(created).timetuple()[:6]
    fd, staging = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with (
            os.fdopen(fd, "wb") as file,
            zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                name = f"{top}/{path.relative_to(folder).as_posix()}"
                info = zipfile.ZipInfo(name, stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())
        os.chmod(staging, FILE_MODE)
    except BaseException:
        os.unlink(staging)
        raise
    return Path(staging)


def _sums(text: bytes) -> dict[str, str]:
    """The files a ``SHA256SUMS`` lists, with their hashes; :class:`ValueError` when it is not
    one exitscrape writes."""
    sums = {}
    for line in text.decode("utf-8").splitlines():
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name or name == SUMS:
            raise ValueError(f"not a SHA256SUMS line: {line[:80]!r}")
        sums[name] = digest
    if not sums:
        raise ValueError("an empty SHA256SUMS")
    return sums


def _is_exitscrape_descriptor(text: bytes) -> bool:
    try:
        descriptor = json.loads(text)
    except ValueError:
        return False
    block = descriptor.get("exitscrape") if isinstance(descriptor, dict) else None
    return isinstance(block, dict) and "dataset_version" in block


def _tree(folder: Path) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under *folder* (relative POSIX path, lstat), symlinks not followed."""
    for directory, dirs, files in os.walk(folder):
        for name in (*dirs, *files):
            path = Path(directory, name)
            yield path.relative_to(folder).as_posix(), os.lstat(path)


def not_a_release(folder: Path) -> str | None:
    """``None`` when *folder* is an earlier release exitscrape built and nobody changed: its
    ``SHA256SUMS`` lists every other file, each with its hash, its ``datapackage.json`` is
    exitscrape's, and it holds nothing else (no link, no other file, no ``.git``); else why
    not, in words."""
    if not os.path.lexists(folder / SUMS):
        return f"it has no {SUMS}, as every release has"
    try:
        sums = _sums(read_regular(folder / SUMS, _REGISTRY_LIMIT))
        files = set()
        for name, info in _tree(folder):
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                return f"it holds {name}, which is not a regular file"
            files.add(name)
        unlisted = sorted(files - set(sums) - {SUMS})
        if unlisted:
            return (
                f"it holds {plural(len(unlisted), 'file')} a release does not, e.g. {unlisted[0]}"
            )
        if set(sums) - files:
            return f"it lacks {sorted(set(sums) - files)[0]}, which its {SUMS} lists"
        for name, digest in sums.items():
            if file_sha256(folder / name) != digest:
                return f"{name} was changed since the release was built"
        if not _is_exitscrape_descriptor(read_regular(folder / "datapackage.json", 1 << 24)):
            return "its datapackage.json is not one exitscrape wrote"
    except (OSError, ValueError) as error:
        return f"it is not a release folder ({error})"
    return None


def not_a_release_zip(path: Path) -> str | None:
    """``None`` when *path* is a release zip exitscrape built (a regular file whose members,
    in one top-level folder or, from earlier releases, at its root, are its ``SHA256SUMS`` and
    the files it lists, with those hashes, and exitscrape's ``datapackage.json``); else why
    not, in words."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return "it is not a regular file (a link, a folder, ...)"
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            top = next((m[: -len(SUMS)] for m in members if m.rpartition("/")[2] == SUMS), "")
            sums = _sums(archive.read(top + SUMS))
            if set(members) != {top + name for name in (*sums, SUMS)}:
                return f"its files are not those its {SUMS} lists"
            if sum(info.file_size for info in members.values()) > _ZIP_LIMIT:
                return "it is larger than any release"
            for name, digest in sums.items():
                hashed = hashlib.sha256()
                with archive.open(top + name) as member:
                    for chunk in iter(lambda: member.read(1 << 20), b""):
                        hashed.update(chunk)
                if hashed.hexdigest() != digest:
                    return f"its {name} does not match its {SUMS}"
            if not _is_exitscrape_descriptor(archive.read(top + "datapackage.json")):
                return "its datapackage.json is not one exitscrape wrote"
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        return f"it is not a release zip ({error})"
    return None


def _check_out(store: DatasetStore, out: Path, archive: Path, force: bool) -> None:
    """Refuse an *out* (and zip) that would hold or replace what a release must not."""
    real, root = Path(os.path.realpath(out)), Path(os.path.realpath(store.root))
    if real == root or root in real.parents or real in root.parents:
        raise ReleaseError(
            f"--out {out} is the data dir {store.root}, or a folder inside or around it: "
            "build the release elsewhere"
        )
    if out.is_symlink():
        raise ReleaseError(f"--out {out} is a symbolic link: give the folder itself")
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"--out {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ReleaseError(
                f"--out {out} exists and is not empty: choose a new folder, or pass --force to "
                "replace an earlier release built there"
            )
        why = not_a_release(out)
        if why:
            raise ReleaseError(
                f"--out {out}: --force replaces only an earlier exitscrape release, and this "
                f"folder is not one: {why}. Nothing was changed"
            )
    if os.path.lexists(archive):
        if not force:
            raise ReleaseError(
                f"{archive} exists: choose a new --out, or pass --force to replace an earlier "
                "release's zip"
            )
        why = not_a_release_zip(archive)
        if why:
            raise ReleaseError(
                f"{archive}: --force replaces only an earlier exitscrape release's zip, and "
                f"this is not one: {why}. Nothing was changed"
            )


class _Swap:
    """Puts staged files and folders in place by renames, and can undo it all: what was there
    waits aside (in a new temporary folder beside it) until :meth:`commit` deletes it."""

    def __init__(self) -> None:
        self._done: list[tuple[Path, Path | None]] = []  # (target, the folder its old one is in)

    def put(
        self, staged: Path, target: Path, check: Callable[[Path], str | None] | None = None
    ) -> None:
        """Rename *staged* to *target*; *check*, given the old *target* once it is aside (where
        nothing can change it any more), refuses the swap with its reason."""
        aside = None
        if os.path.lexists(target):
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.rename(target, aside / target.name)
        try:
            why = check(aside / target.name) if check and aside else None
            if why:
                raise ReleaseError(f"{target} changed while the release was built: {why}")
            os.rename(staged, target)
        except BaseException:
            if aside is not None:
                self._restore(target, aside)
            raise
        self._done.append((target, aside))

    @staticmethod
    def _restore(target: Path, aside: Path) -> None:
        os.rename(aside / target.name, target)
        aside.rmdir()

    def undo(self) -> None:
        for target, aside in reversed(self._done):
            _remove(target)
            if aside is not None:
                self._restore(target, aside)
        self._done = []

    def commit(self) -> None:
        for _, aside in self._done:
            if aside is not None:
                shutil.rmtree(aside, ignore_errors=True)
        self._done = []


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def build_release(
    store: DatasetStore, out: Path | str, version: str = "latest", force: bool = False
) -> Release:
    """Build the release of *version* into the folder *out* (plus ``<out>.zip``) and record it."""
    out = Path(os.path.abspath(out))  # a symlink at *out* itself is refused, not followed
    archive = out.with_name(f"{out.name}.zip")
    version = store.resolve(version)
    _check_out(store, out, archive, force)
    damage = store.verify(version)
    if damage:
        raise DatasetDamaged(
            f"version {version} fails verification, so it is not released: "
            + "; ".join(map(str, damage))
        )
    releases = read_registry(store)
    manifest = store.manifest(version)
    tables = {name: store.read(name, version) for name in TABLE_NAMES}
    # Verified above with every file its manifest lists: none when published before captures.
    listed = CAPTURES_FILE in (manifest.get("files") or {})
    captures = store.root / version / CAPTURES_FILE if listed else None
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
    make_dirs(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    staged_zip: Path | None = None
    swap = _Swap()
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
        if captures is not None:
            pages = page_list(tables["pages"], tables["programmes"])
            write_wacz(captures, pages, tmp / WACZ_FILE, datetime.fromisoformat(created))
        evidence = WACZ_FILE if captures is not None else None
        facts = CardFacts(
            number, created[:10], f"{PACKAGE_NAME}-{number}", manifest, tables, files, evidence
        )
        (tmp / "README.md").write_text(data_card(facts))
        sections = [current_section, *(r["changelog"] for r in reversed(earlier))]
        (tmp / "CHANGELOG.md").write_text(changelog(sections))
        schemas = {name: table_schema(name, table.schema) for name, table in tables.items()}
        descriptor = _descriptor(tmp, number, created, manifest, schemas, previous, level)
        (tmp / "datapackage.json").write_text(
            json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"
        )
        _sha256sums(tmp)
        for path in tmp.rglob("*"):  # as the umask says until now: readable by all, no more
            os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
        os.chmod(tmp, DIR_MODE)
        staged_zip = _zip(tmp, archive, created, out.name)
        replaced = out.is_dir() and any(out.iterdir())
        swap.put(tmp, out, not_a_release if replaced else None)
        swap.put(staged_zip, archive, not_a_release_zip if os.path.lexists(archive) else None)
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
                    f"release {number} could not be recorded in {store.root / REGISTRY} "
                    f"({error.strerror or error}), so it was not built: nothing changed"
                ) from None
    except BaseException:
        swap.undo()
        shutil.rmtree(tmp, ignore_errors=True)
        if staged_zip is not None:
            _remove(staged_zip)
        raise
    swap.commit()
    return Release(number, level, version, out, archive, previous, diff, bool(recorded))

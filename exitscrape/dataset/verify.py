"""Checks of a published version against its manifest: pure functions returning typed problems.

A version's ``manifest.json`` lists every file of the version with its size and SHA-256
(``files``). :func:`check_version` runs every registered check on one version folder; the
built-in one, :func:`check_files`, holds every listed file to its size (and, when ``deep``, its
SHA-256), requires the tables, and reports any file the manifest does not list. Checks of other
kinds of files (a WARC capture, say) are added with :func:`register_check`; whatever file a
manifest lists is already held to its size and hash.

Costs: ``deep`` hashes every byte (``exitscrape verify``, a crawl's check of the version it
compares with, a release); readers only compare sizes and catch read errors (see
:meth:`exitscrape.dataset.store.DatasetStore.read`).

The manifest is the reference: damage to the files is found, not a forger who rewrites the
manifest as well (a release's ``SHA256SUMS`` kept elsewhere covers that).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exitscrape.dataset.files import file_sha256
from exitscrape.dataset.schema import TABLES

MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one file (or the manifest) of a data dir."""

    path: str  # relative to the data dir: "<version>/programmes.parquet", "LATEST"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class VersionFolder:
    """What a check is given: one version's folder and its parsed manifest."""

    path: Path
    manifest: dict[str, Any]
    deep: bool  # hash contents, not only compare sizes

    @property
    def name(self) -> str:
        return self.path.name

    def problem(self, file: str, message: str) -> Problem:
        return Problem(f"{self.name}/{file}", message)


#: A check of one version: the problems it finds, none when all hold.
Check = Callable[[VersionFolder], Iterable[Problem]]


def listed_files(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's ``files`` (name -> ``{"bytes", "sha256"}``), empty when it has none."""
    files = manifest.get("files")
    return files if isinstance(files, dict) else {}


def file_problem(path: Path, entry: Any, deep: bool) -> str | None:
    """What is wrong with the file at *path* against its manifest *entry*, or ``None``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("bytes"), int):
        return "the manifest's entry for it is malformed"
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"cannot be read: {error.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return "a symbolic link, not the published file"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size != entry["bytes"]:
        return f"{info.st_size} bytes, the manifest says {entry['bytes']} (truncated or replaced)"
    if deep:
        try:
            digest = file_sha256(path)
        except OSError as error:
            return f"cannot be read: {error.strerror}"
        if digest != entry.get("sha256"):
            return "its SHA-256 differs from the manifest's (changed since it was published)"
    return None


def _is_plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def check_files(version: VersionFolder) -> Iterator[Problem]:
    """Every listed file holds its size and hash; the tables are listed; nothing is unlisted."""
    files = listed_files(version.manifest)
    if version.manifest.get("version") != version.name:
        yield version.problem(MANIFEST, f"names version {version.manifest.get('version')!r}")
    for table in TABLES:
        if f"{table}.parquet" not in files:
            yield version.problem(MANIFEST, f"does not list {table}.parquet")
    for name, entry in files.items():
        if not _is_plain_name(name):
            yield version.problem(MANIFEST, f"lists {name!r}, not a file of the version folder")
            continue
        problem = file_problem(version.path / name, entry, version.deep)
        if problem:
            yield version.problem(name, problem)
    try:
        present = sorted(os.listdir(version.path))
    except OSError as error:
        yield Problem(version.name, f"cannot be listed: {error.strerror}")
        return
    for name in present:
        if name != MANIFEST and name not in files:
            yield version.problem(name, "not listed in the manifest (not published with it)")


CHECKS: list[Check] = [check_files]


def register_check(check: Check) -> Check:
    """Add *check* to those :func:`check_version` runs (usable as a decorator)."""
    CHECKS.append(check)
    return check


def check_version(path: Path, manifest: dict[str, Any], deep: bool = True) -> list[Problem]:
    """The problems of the version folder *path* with its parsed *manifest*: every check's."""
    version = VersionFolder(path, manifest, deep)
    return [problem for check in CHECKS for problem in check(version)]

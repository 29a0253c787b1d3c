"""Verification of published versions against their manifests, and what readers make of damage."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import exitscrape
from exitscrape.dataset.files import file_sha256
from exitscrape.dataset.store import DatasetDamaged, DatasetStore
from exitscrape.dataset.verify import CHECKS, Problem, VersionFolder, register_check
from tests.conftest import one_programme_tables


@pytest.fixture
def store(tmp_path: Path) -> DatasetStore:
    store = DatasetStore(tmp_path / "data")
    assert store.publish(one_programme_tables(), "digest", {}) is not None
    return store


def folder(store: DatasetStore) -> Path:
    return store.root / store.resolve()


def add_to_manifest(store: DatasetStore, name: str) -> None:
    """List the file *name* of the latest version in its manifest, as a publisher would."""
    path = folder(store) / name
    manifest_path = folder(store) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][name] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    manifest_path.write_text(json.dumps(manifest))


def problems(store: DatasetStore, deep: bool = True) -> list[str]:
    return [str(p) for p in store.verify(store.resolve(), deep=deep)]


def test_an_intact_version_has_no_problem(store: DatasetStore) -> None:
    assert problems(store) == []


def test_a_truncated_file_is_found_by_size_and_readers_name_it(store: DatasetStore) -> None:
    version = store.resolve()
    path = folder(store) / "programmes.parquet"
    path.write_bytes(path.read_bytes()[:100])
    (problem,) = problems(store, deep=False)
    assert problem.startswith(f"{version}/programmes.parquet: 100 bytes, the manifest says ")
    with pytest.raises(DatasetDamaged) as raised:
        exitscrape.load(data_dir=store.root)
    message = str(raised.value)
    assert str(path) in message and "\n" not in message
    assert len(exitscrape.load("pages", data_dir=store.root)) == 0  # the other table still reads


def test_a_changed_byte_is_found_by_its_hash_only(store: DatasetStore) -> None:
    path = folder(store) / "programmes.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert problems(store, deep=False) == []  # readers check sizes only: cheap
    assert problems(store) == [
        f"{store.resolve()}/programmes.parquet: its SHA-256 differs from the manifest's "
        "(changed since it was published)"
    ]


def test_missing_linked_unlisted_and_malformed(store: DatasetStore, tmp_path: Path) -> None:
    version = store.resolve()
    pages = folder(store) / "pages.parquet"
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(pages.read_bytes())
    pages.unlink()
    pages.symlink_to(outside)  # same bytes, but not the published file
    (folder(store) / "programmes.parquet").unlink()
    (folder(store) / "notes.txt").write_text("planted")
    assert sorted(problems(store)) == [
        f"{version}/notes.txt: not listed in the manifest (not published with it)",
        f"{version}/pages.parquet: a symbolic link, not the published file",
        f"{version}/programmes.parquet: missing",
    ]
    with pytest.raises(DatasetDamaged, match="a symbolic link"):
        store.read("pages")

    manifest = folder(store) / "manifest.json"
    document = json.loads(manifest.read_text())
    document["files"]["../../outside.parquet"] = {"bytes": 1, "sha256": "0" * 64}
    manifest.write_text(json.dumps(document))
    assert (
        f"{version}/manifest.json: lists '../../outside.parquet', not a file of the version "
        in ("\n".join(problems(store)))
    )
    manifest.write_text("{torn")
    (problem,) = problems(store)
    assert problem.startswith(f"{version}/manifest.json: cannot be read")
    with pytest.raises(DatasetDamaged, match=r"manifest.json: cannot be read"):
        store.manifest()


def test_every_listed_file_is_verified_and_checks_can_be_registered(store: DatasetStore) -> None:
    """A version may list more files (a WARC capture, say): each is held to its size and hash,
    and a check of its own kind can be registered."""
    capture = folder(store) / "captures.warc.gz"
    capture.write_bytes(b"WARC/1.1\r\n")
    add_to_manifest(store, "captures.warc.gz")
    assert problems(store) == []

    def warc_check(version: VersionFolder) -> Iterator[Problem]:
        if (version.path / "captures.warc.gz").read_bytes()[:4] != b"\x1f\x8b":
            yield version.problem("captures.warc.gz", "not gzip")

    register_check(warc_check)
    try:
        assert problems(store) == [f"{store.resolve()}/captures.warc.gz: not gzip"]
    finally:
        CHECKS.remove(warc_check)
    capture.write_bytes(b"WARC/1.0\r\n")  # same size, another byte
    assert problems(store) == [
        f"{store.resolve()}/captures.warc.gz: its SHA-256 differs from the manifest's "
        "(changed since it was published)"
    ]


def test_a_version_named_another_in_its_manifest(store: DatasetStore) -> None:
    version = store.resolve()
    manifest = folder(store) / "manifest.json"
    manifest.write_text(manifest.read_text().replace(version, "20000101T000000Z"))
    assert f"{version}/manifest.json: names version '20000101T000000Z'" in problems(store)


def test_a_fifo_in_a_version_is_not_read(store: DatasetStore) -> None:
    path = folder(store) / "programmes.parquet"
    path.unlink()
    os.mkfifo(path)  # opening it to read would block the reader forever
    assert problems(store) == [f"{store.resolve()}/programmes.parquet: not a regular file"]
    with pytest.raises(DatasetDamaged, match="not a regular file"):
        store.read()

"""What the store takes for a version, what LATEST may name, and what it never follows."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import exitscrape
from exitscrape.dataset.store import DatasetError, DatasetStore, is_version_name
from tests.conftest import one_programme_tables


@pytest.fixture
def store(tmp_path: Path) -> DatasetStore:
    store = DatasetStore(tmp_path / "data")
    assert store.publish(one_programme_tables(), "digest", {}) is not None
    return store


def outside_version(tmp_path: Path, store: DatasetStore, name: str) -> Path:
    """A copy of the published version outside the data dir, with a different programme name
    (what a reader must never load)."""
    target = tmp_path / name
    tables = one_programme_tables(name="OUTSIDE")
    other = DatasetStore(tmp_path / "elsewhere")
    version = other.publish(tables, "other", {})
    assert version is not None
    shutil.copytree(other.root / version, target)
    return target


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("20261124T194512Z", True),
        ("20261124T194512Z-001", True),
        ("20261124T194512Z-1000", True),
        ("20261324T194512Z", False),  # month 13
        ("20261124T194512Z-1", False),
        ("20261124T194512", False),
        ("../20261124T194512Z", False),
        ("backup", False),
        ("", False),
        ("２０２６1124T194512Z", False),  # digits, but not ASCII ones
    ],
)
def test_version_names(name: str, valid: bool) -> None:
    assert is_version_name(name) is valid


def test_latest_naming_a_path_is_reported_never_followed(
    store: DatasetStore, tmp_path: Path
) -> None:
    version = store.resolve()
    outside = outside_version(tmp_path, store, "x")
    for planted in ("../x", str(outside), f"{version}/../../x", ""):
        (store.root / "LATEST").write_text(planted + "\n")
        with pytest.raises(DatasetError) as raised:
            exitscrape.load(data_dir=store.root)
        message = str(raised.value)
        assert "LATEST" in message and version in message and "echo" in message
        assert store.latest() is None
    (store.root / "LATEST").write_text("20000101T000000Z\n")
    with pytest.raises(DatasetError, match="20000101T000000Z, which is not a version"):
        store.resolve()
    (store.root / "LATEST").unlink()
    with pytest.raises(DatasetError, match=r"LATEST is missing, though .* holds 1 version"):
        store.resolve()
    assert store.recover() == f"LATEST is missing; it now names {version}"
    assert exitscrape.load(data_dir=store.root)["name"].tolist() == ["P"]


def test_a_stray_folder_or_link_is_no_version(store: DatasetStore, tmp_path: Path) -> None:
    version = store.resolve()
    outside = outside_version(tmp_path, store, "outside")
    shutil.copytree(outside, store.root / "backup")  # a folder with a manifest.json
    (store.root / "29991231T235959Z").symlink_to(outside)  # a version's name, on a link
    (store.root / "29991231T235958Z").mkdir()  # a version's name, no manifest
    assert store.versions() == [version]
    assert [str(p) for p in store.strays()] == [
        "29991231T235958Z: not a version folder with a manifest: ignored",
        "29991231T235959Z: not a version folder with a manifest: ignored",
        "backup: not a version name (YYYYMMDDTHHMMSSZ): ignored",
    ]
    (store.root / "LATEST").write_text("29991231T235959Z\n")
    with pytest.raises(DatasetError, match="not a version of this data dir"):
        exitscrape.load(data_dir=store.root)
    # The next publish is not misled: it names its version after the real ones.
    second = store.publish(one_programme_tables(name="Q"), "digest-2", {})
    assert second is not None and version < second < "29991231T235958Z"
    assert store.latest() == second
    assert exitscrape.load(data_dir=store.root)["name"].tolist() == ["Q"]
    assert os.readlink(store.root / "29991231T235959Z") == str(outside)  # left alone


def test_version_arguments(store: DatasetStore) -> None:
    first = store.resolve()
    second = store.publish(one_programme_tables(name="Q"), "digest-2", {})
    assert second is not None
    with pytest.raises(DatasetError, match="an empty version"):
        store.resolve("")
    with pytest.raises(
        DatasetError, match=f"ambiguous: 2 versions start with it .{first}, {second}"
    ):
        store.resolve(first[:4])
    with pytest.raises(DatasetError, match=r"no version '1999' in .*latest versions: "):
        store.resolve("1999")
    with pytest.raises(DatasetError, match=r"no version '../x'"):
        store.resolve("../x")
    assert store.resolve(first) == first and store.resolve(second[:17]) == second


def test_planted_links_at_temporary_names_are_removed_not_followed(
    store: DatasetStore, tmp_path: Path
) -> None:
    victim_dir = tmp_path / "victim-dir"
    victim_dir.mkdir()
    (victim_dir / "keep").write_text("keep")
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (store.root / ".tmp-planted").symlink_to(victim_dir)
    (store.root / ".LATEST.planted.tmp").symlink_to(victim)
    assert store.publish(one_programme_tables(name="Q"), "digest-2", {}) is not None
    assert not os.path.lexists(store.root / ".tmp-planted")
    assert not os.path.lexists(store.root / ".LATEST.planted.tmp")
    assert (victim_dir / "keep").read_text() == "keep" and victim.read_text() == "keep"


def test_latest_planted_as_a_fifo_or_link_does_not_block_or_leak(
    store: DatasetStore, tmp_path: Path
) -> None:
    version = store.resolve()
    secret = tmp_path / "secret"
    secret.write_text(version)  # what a link would lead to: a valid name, read from elsewhere
    (store.root / "LATEST").unlink()
    (store.root / "LATEST").symlink_to(secret)
    with pytest.raises(DatasetError, match=r"LATEST cannot be read .a symbolic link"):
        store.resolve()
    (store.root / "LATEST").unlink()
    os.mkfifo(store.root / "LATEST")  # reading it would wait for a writer forever
    with pytest.raises(DatasetError, match=r"LATEST cannot be read .not a regular file"):
        store.resolve()
    # The next publish puts a file in its place, naming the newest version as the parent.
    assert store.publish(one_programme_tables(name="Q"), "digest-2", {}) is not None
    assert (store.root / "LATEST").is_file() and not (store.root / "LATEST").is_symlink()
    assert store.manifest()["parent"] == version

"""``exitscrape release`` never destroys what it did not build: ``--force`` replaces only an
earlier release, a zip is never silently replaced, a failed release leaves nothing half-built,
and a damaged version is not released."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from exitscrape.cli import main
from exitscrape.dataset.store import DatasetStore
from exitscrape.release.build import ReleaseError, build_release
from tests.conftest import run_cli


@pytest.fixture
def data_dir(snapshot_versions: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(snapshot_versions, tmp_path / "data"))


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under *root* (links as their target), with its content's hash."""
    found = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[key] = "dir"
    return found


def hidden_leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """*path* (a directory) refuses new entries, even to root (``chattr +i``)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a directory read-only for root here (chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_someone_elses_folder_survives_release_force(data_dir: Path, tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    (theirs / ".git").mkdir(parents=True)  # a git work tree, say
    (theirs / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (theirs / "notes.md").write_text("my notes")
    (theirs / "data").mkdir()
    (theirs / "data" / "programmes.csv").write_text("mine,not,yours\n")
    (tmp_path / "theirs.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip of theirs
    before = snapshot(tmp_path)
    result = run_cli("release", "--data-dir", str(data_dir), "--out", str(theirs), "--force")
    assert result.returncode == 2
    assert "--force replaces only an earlier exitscrape release" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("where", ["the data dir", "inside it", "above it"])
def test_the_data_dir_is_never_a_release_folder(
    data_dir: Path, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = {"the data dir": data_dir, "inside it": data_dir / "runs", "above it": data_dir.parent}
    before = snapshot(data_dir)
    code = main(["release", "--data-dir", str(data_dir), "--out", str(out[where]), "--force"])
    assert code == 2
    assert "is the data dir" in capsys.readouterr().err
    assert snapshot(data_dir) == before


def test_force_replaces_only_an_untouched_earlier_release(data_dir: Path, tmp_path: Path) -> None:
    store = DatasetStore(data_dir)
    out = tmp_path / "release"
    build_release(store, out)
    archive = tmp_path / "release.zip"
    built = snapshot(out), archive.read_bytes()

    with pytest.raises(ReleaseError, match="exists and is not empty"):
        build_release(store, out)
    shutil.rmtree(out)
    with pytest.raises(ReleaseError, match=r"release.zip exists: choose a new --out, or pass"):
        build_release(store, out)  # the zip alone is not silently replaced either
    assert build_release(store, out, force=True).rebuilt
    assert (snapshot(out), archive.read_bytes()) == built

    (out / "README.md").write_text("edited by hand")  # no longer what exitscrape wrote
    with pytest.raises(ReleaseError, match=r"README.md was changed since the release was built"):
        build_release(store, out, force=True)
    assert (out / "README.md").read_text() == "edited by hand"
    build_release(store, tmp_path / "other")
    (tmp_path / "other" / "extra.txt").write_text("mine")
    with pytest.raises(ReleaseError, match=r"a release does not, e.g. extra.txt"):
        build_release(store, tmp_path / "other", force=True)
    assert (tmp_path / "other" / "extra.txt").read_text() == "mine"


def test_a_link_planted_at_the_zip_is_never_followed(data_dir: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    archive = tmp_path / "release.zip"
    archive.symlink_to(victim)
    store = DatasetStore(data_dir)
    with pytest.raises(ReleaseError, match=r"release.zip exists"):
        build_release(store, tmp_path / "release")
    with pytest.raises(ReleaseError, match="not a regular file"):
        build_release(store, tmp_path / "release", force=True)
    assert victim.read_text() == "precious" and archive.is_symlink()
    assert not (tmp_path / "release").exists() and hidden_leftovers(tmp_path) == []


def test_a_failed_release_leaves_nothing_half_built(data_dir: Path, tmp_path: Path) -> None:
    old, new = DatasetStore(data_dir).versions()
    out = tmp_path / "release"
    assert run_cli("release", old, "--data-dir", str(data_dir), "--out", str(out)).returncode == 0
    before, data_before = snapshot(tmp_path / "release"), snapshot(data_dir)
    zip_before = (tmp_path / "release.zip").read_bytes()
    with read_only(data_dir):  # the new release cannot be recorded
        result = run_cli("release", "--data-dir", str(data_dir), "--out", str(out), "--force")
    assert result.returncode == 2, result.stderr
    assert "could not be recorded" in result.stderr and "Traceback" not in result.stderr
    # The earlier release is back in place, whole; nothing new or temporary is left.
    assert snapshot(out) == before and (tmp_path / "release.zip").read_bytes() == zip_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "release", "release.zip"]
    assert snapshot(data_dir) == data_before
    assert new not in (data_dir / "releases.json").read_text()


def test_a_damaged_version_is_not_released(data_dir: Path, tmp_path: Path) -> None:
    store = DatasetStore(data_dir)
    pages = store.root / store.resolve() / "pages.parquet"
    data = bytearray(pages.read_bytes())
    data[100] ^= 0x01  # one bit: same size, readers would not notice
    pages.write_bytes(bytes(data))
    result = run_cli("release", "--data-dir", str(data_dir), "--out", str(tmp_path / "r"))
    assert result.returncode == 5
    assert f"{store.resolve()}/pages.parquet: its SHA-256 differs" in result.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "r.zip").exists()
    assert not (data_dir / "releases.json").exists()

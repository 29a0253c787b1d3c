"""A release ships its version's evidence: ``captures.wacz``, a valid WACZ holding the version's
captures byte for byte, declared in the Data Package, explained in the data card."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from exitscrape.dataset.store import DatasetStore
from exitscrape.release.card import CardFacts, data_card
from tests.conftest import one_programme_tables, run_cli


@pytest.fixture(scope="module")
def released(snapshot_versions, tmp_path_factory) -> tuple[Path, Path]:
    """A release of the latest snapshot version: (data dir, release folder)."""
    root = tmp_path_factory.mktemp("evidence-release")
    data = Path(shutil.copytree(snapshot_versions, root / "data"))
    result = run_cli("release", "--data-dir", str(data), "--out", str(root / "release"))
    assert result.returncode == 0, result.stderr
    return data, root / "release"


def test_the_wacz_validates_and_holds_the_captures(released) -> None:
    data, out = released
    wacz = out / "captures.wacz"
    check = subprocess.run(
        [sys.executable, "-m", "wacz", "validate", "-f", wacz.name],
        cwd=out,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "the passed WACZ is valid" in check.stdout
    version = DatasetStore(data).latest()
    with zipfile.ZipFile(wacz) as archive:
        held = archive.read("archive/captures.warc.gz")
        pages = [json.loads(line) for line in archive.read("pages/pages.jsonl").splitlines()]
    assert held == (data / str(version) / "captures.warc.gz").read_bytes()
    programmes = DatasetStore(data).read("programmes").to_pylist()
    titles = {page["url"]: page["title"] for page in pages[1:]}
    for programme in programmes:
        assert any(titles.get(url) == programme["name"] for url in programme["source_urls"])


def test_the_wacz_is_declared_with_its_hash_and_explained(released) -> None:
    _, out = released
    descriptor = json.loads((out / "datapackage.json").read_text())
    (resource,) = [r for r in descriptor["resources"] if r["name"] == "captures"]
    wacz = (out / "captures.wacz").read_bytes()
    assert resource["path"] == "captures.wacz" and resource["type"] == "file"
    assert resource["hash"] == f"sha256:{hashlib.sha256(wacz).hexdigest()}"
    assert resource["bytes"] == len(wacz)
    card = (out / "README.md").read_text()
    section = card.split("## Checking a value against its source", 1)[1].split("\n## ", 1)[0]
    for needle in ("replayweb.page", "pywb", "--unpack-wacz", "warc_record_id", "source_urls"):
        assert needle in section, needle


def test_a_version_without_captures_is_released_without_evidence(tmp_path) -> None:
    store = DatasetStore(tmp_path / "data")
    store.publish(one_programme_tables(), "digest", {"exitscrape_version": "0.1.0"})
    result = run_cli("release", "--data-dir", str(store.root), "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "r" / "captures.wacz").exists()
    card = (tmp_path / "r" / "README.md").read_text()
    assert "the release holds no captures to check values against" in card


def test_captures_changed_after_publishing_are_not_released(snapshot_versions, tmp_path) -> None:
    data = Path(shutil.copytree(snapshot_versions, tmp_path / "data"))
    captures = data / str(DatasetStore(data).latest()) / "captures.warc.gz"
    captures.write_bytes(captures.read_bytes()[:-10])
    result = run_cli("release", "--data-dir", str(data), "--out", str(tmp_path / "r"))
    assert result.returncode == 5  # a damaged version
    assert "captures.warc.gz: " in result.stderr and "truncated or replaced" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r").exists() and not (data / "releases.json").exists()


def test_the_card_of_a_rebuilt_version_says_so(snapshot_versions) -> None:
    store = DatasetStore(snapshot_versions)
    old, latest = store.versions()
    manifest = {**store.manifest(latest), "rebuilt_from": old, "rebuilt_by": "9.9.9"}
    tables = {name: store.read(name, latest) for name in ("programmes", "pages")}
    card = data_card(CardFacts("1.0.0", "2026-11-24", "x", manifest, tables, [], "captures.wacz"))
    assert f"**Rebuilt** by exitscrape 9.9.9 from the captures of dataset version `{old}`" in card
    assert "| `captures.wacz` |" in card

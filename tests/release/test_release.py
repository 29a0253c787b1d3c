"""``exitscrape release``: a Frictionless package that validates, checksums that match, a data
card, a changelog from the diff, semantic version numbers, and refusals that lose nothing."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from frictionless import Package, formats

from exitscrape.dataset.diff import Diff
from exitscrape.dataset.schema import PAGES, PROGRAMMES
from exitscrape.dataset.store import DatasetStore
from exitscrape.release.card import CardFacts, data_card
from exitscrape.release.datapackage import spreadsheet_text
from exitscrape.release.semver import bump, change_level
from tests.conftest import one_programme_tables, run_cli

RIVE = "research-and-intervention-on-violent-extremism-rive-fr"
HII = "healthy-identity-intervention-hii-gb"


@pytest.fixture
def data_dir(snapshot_versions, tmp_path) -> Path:
    """A private copy of the two-version data dir (releases write releases.json into it)."""
    copy = tmp_path / "data"
    shutil.copytree(snapshot_versions, copy)
    return copy


def release(data_dir: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("release", *args, "--data-dir", str(data_dir), "--out", str(out))


def frictionless_validate(descriptor: Path) -> subprocess.CompletedProcess[str]:
    """``frictionless validate datapackage.json`` (or ``release.zip``), run as a user would,
    from its folder."""
    return subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", descriptor.name],
        capture_output=True,
        text=True,
        cwd=descriptor.parent,
        timeout=300,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_then_next_release(data_dir, tmp_path):
    old, new = DatasetStore(data_dir).versions()

    first = release(data_dir, tmp_path / "r1", old)
    assert first.returncode == 0, first.stderr
    assert f"release 1.0.0 of dataset version {old} (first release)" in first.stdout

    second = release(data_dir, tmp_path / "r2")
    assert second.returncode == 0, second.stderr
    assert f"release 1.1.0 of dataset version {new}" in second.stdout
    assert "+1 added, -0 removed, ~1 changed" in second.stdout

    out = tmp_path / "r2"
    descriptor = json.loads((out / "datapackage.json").read_text())
    assert descriptor["version"] == "1.1.0"
    assert descriptor["exitscrape"]["previous_release"] == "1.0.0"
    assert descriptor["exitscrape"]["dataset_version"] == new

    changelog = (out / "CHANGELOG.md").read_text()
    assert changelog.index("## 1.1.0") < changelog.index("## 1.0.0")
    added = changelog.split("### Added programmes (1)")[1].split("###")[0]
    assert RIVE in added
    changed = changelog.split("### Changed programmes (1)")[1]
    assert HII in changed and "`organisation`" in changed
    assert "National Offender Management Service (NOMS)" in changed
    assert "Removed programmes" not in changelog

    registry = json.loads((data_dir / "releases.json").read_text())["releases"]
    assert [(r["release"], r["dataset_version"]) for r in registry] == [
        ("1.0.0", old),
        ("1.1.0", new),
    ]


def test_package_validates_and_checksums_match(data_dir, tmp_path):
    out = tmp_path / "release"
    result = release(data_dir, out)
    assert result.returncode == 0, result.stderr

    validation = frictionless_validate(out / "datapackage.json")
    assert validation.returncode == 0, validation.stdout + validation.stderr

    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "CHANGELOG.md",
        "README.md",
        "SHA256SUMS",
        "captures.wacz",
        "data/pages.csv",
        "data/pages.parquet",
        "data/programmes.csv",
        "data/programmes.parquet",
        "datapackage.json",
        "exit_programmes.db",
        "metadata.json",
    ]
    sums = {}
    for line in (out / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    assert set(sums) == set(files) - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert sha256(out / name) == digest, name
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True)
    assert check.returncode == 0, check.stdout

    descriptor = json.loads((out / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        path = out / resource["path"]
        assert resource["bytes"] == path.stat().st_size
        assert resource["hash"] == f"sha256:{sha256(path)}"
        assert resource["format"] in ("csv", "parquet", "sqlite", "wacz") and resource["mediatype"]
    # The Parquet files are the published version's, byte for byte.
    store = DatasetStore(data_dir)
    assert sha256(out / "data/programmes.parquet") == sha256(store.table_path("programmes"))

    # The zip unpacks into one folder, named as the release folder. frictionless finds a
    # package only at a zip's root, unless told where (`innerpath`): docs/releases.md says so.
    archive = tmp_path / "release.zip"
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == [f"release/{name}" for name in files]
        for name in files:
            assert z.read(f"release/{name}") == (out / name).read_bytes()
    zipped = Package(str(archive), control=formats.ZipControl(innerpath="release/datapackage.json"))
    report = zipped.validate()
    assert report.valid, report.flatten(["type", "note"])
    assert {task.name for task in report.tasks} >= {"programmes-csv", "pages-csv"}


def test_a_release_from_a_relative_data_dir_validates_as_printed(data_dir, tmp_path):
    """Paths as a user types them (relative to where they run the command), and the zip checked
    with the command the release prints."""
    done = run_cli("release", "--data-dir", "data", "--out", "rel", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    check = [line.removeprefix("  check:").strip() for line in lines if "frictionless" in line]
    assert len(check) == 2 and check[1].endswith("--innerpath rel/datapackage.json")
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"  # the venv's frictionless
    for command in check:
        validation = subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            env={**os.environ, "PATH": path},
        )
        assert validation.returncode == 0, validation.stdout + validation.stderr


def test_a_broken_checksum_fails_validation(data_dir, tmp_path):
    out = tmp_path / "release"
    assert release(data_dir, out).returncode == 0
    with (out / "data/programmes.csv").open("a") as f:
        f.write("\n")
    assert frictionless_validate(out / "datapackage.json").returncode != 0


def test_table_schemas_come_from_the_dataset_schema(data_dir, tmp_path):
    out = tmp_path / "release"
    assert release(data_dir, out).returncode == 0
    descriptor = json.loads((out / "datapackage.json").read_text())
    resources = {r["name"]: r for r in descriptor["resources"]}
    assert set(resources) == {
        "programmes-csv",
        "programmes-parquet",
        "pages-csv",
        "pages-parquet",
        "exit-programmes-sqlite",
        "captures",
    }
    for table, schema in (("programmes", PROGRAMMES), ("pages", PAGES)):
        for fmt in ("csv", "parquet"):
            fields = resources[f"{table}-{fmt}"]["schema"]["fields"]
            assert [f["name"] for f in fields] == schema.names
            for field, arrow in zip(fields, schema, strict=True):
                assert field["description"] == arrow.metadata[b"description"].decode()
                assert field.get("constraints", {}).get("required", False) == (not arrow.nullable)
    types = {f["name"]: f["type"] for f in resources["programmes-csv"]["schema"]["fields"]}
    assert types["references"] == types["settings"] == "array"
    assert types["crawled_at"] == "datetime"
    assert descriptor["licenses"] and descriptor["sources"][0]["path"].startswith("https://")


def test_csv_copies_hold_the_same_rows(data_dir, tmp_path):
    out = tmp_path / "release"
    assert release(data_dir, out).returncode == 0
    for table in ("programmes", "pages"):
        expected = pq.read_table(out / f"data/{table}.parquet").to_pylist()
        with (out / f"data/{table}.csv").open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(expected)
        schema = PROGRAMMES if table == "programmes" else PAGES
        for row, want in zip(rows, expected, strict=True):
            for field in schema:
                cell, value = row[field.name], want[field.name]
                if value is None:
                    assert cell == ""
                elif pa.types.is_list(field.type):
                    assert json.loads(cell) == value
                elif pa.types.is_timestamp(field.type):
                    assert cell == value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                elif isinstance(value, str):
                    assert cell == spreadsheet_text(value)
                else:
                    assert cell == str(value)


def test_data_card(data_dir, tmp_path):
    old, _ = DatasetStore(data_dir).versions()
    out = tmp_path / "release"
    assert release(data_dir, out, old).returncode == 0
    card = (out / "README.md").read_text()
    manifest = DatasetStore(data_dir).manifest(old)
    for needle in (
        "Release **1.0.0**",
        "Exit Practices",
        "https://www.exit-practices.eu/",
        "WayOut",
        manifest["start_url"],
        manifest["created_at"],
        f"exitscrape {manifest['exitscrape_version']}",
        "## Data dictionary",
        "## Coverage and known gaps",
        "## Limitations",
        "## Sensitivity",
        "## Licence",
        "MIT",
        "## How to cite",
        "@misc{",
        "  author       = {{WayOut project (Exit Practices)}},",
        "  url          = {https://www.exit-practices.eu/},",
        "Not the live site",  # crawled from a loopback copy, and says so
    ):
        assert needle in card, needle
    for name in PROGRAMMES.names + PAGES.names:
        assert f"| `{name}` |" in card
    # The old version's missing programme page is a known gap, with its status.
    assert "research-and-intervention-on-violent-extremism-rive1.html (failed, HTTP 404)" in card
    assert "`organisation`: empty for 4 of 6 programmes" in card
    # The snapshot's texts its archive had cut short are named, with why.
    incomplete = card.split("**Incomplete in the source.**")[1].split("\n\n")[0]
    assert "archive had lost these values" in incomplete
    assert 'the list after "…four main priorities:" was not recovered' in incomplete
    assert 'ends mid-sentence ("…The")' not in incomplete  # RIVE is not in the old version

    # Live-site data never gets the claim, whatever its texts.
    store = DatasetStore(data_dir)
    latest = store.manifest()
    tables = {name: store.read(name) for name in ("programmes", "pages")}
    for start_url, claimed in (
        (latest["start_url"], True),
        ("https://www.exit-practices.eu/", False),
    ):
        facts = CardFacts(
            "1.1.0", "2026-11-24", "x", {**latest, "start_url": start_url}, tables, []
        )
        text = data_card(facts)
        assert ('ends mid-sentence ("…The")' in text) is claimed
        assert ("Incomplete in the source" in text) is claimed


def test_releasing_a_version_again_rebuilds_the_same_release(data_dir, tmp_path):
    assert release(data_dir, tmp_path / "a").returncode == 0
    again = release(data_dir, tmp_path / "b")
    assert again.returncode == 0, again.stderr
    assert "release 1.0.0" in again.stdout and "rebuilt" in again.stdout
    for name in (
        "datapackage.json",
        "CHANGELOG.md",
        "README.md",
        "SHA256SUMS",
        "metadata.json",
        "captures.wacz",  # wacz run with the release's time as its clock
    ):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert len(json.loads((data_dir / "releases.json").read_text())["releases"]) == 1


def test_refusals_leave_everything_as_it_was(data_dir, tmp_path):
    old, _ = DatasetStore(data_dir).versions()
    assert release(data_dir, tmp_path / "latest").returncode == 0
    registry = (data_dir / "releases.json").read_bytes()

    backwards = release(data_dir, tmp_path / "old", old)
    assert backwards.returncode == 2
    assert "releases only move forward" in backwards.stderr
    assert "Traceback" not in backwards.stderr
    assert not (tmp_path / "old").exists()

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    refused = release(data_dir, occupied)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert (occupied / "keep.txt").read_text() == "mine"
    assert (data_dir / "releases.json").read_bytes() == registry

    # Someone else's folder: --force replaces only an earlier release, so it survives whole.
    forced = release(data_dir, occupied, "--force")
    assert forced.returncode == 2, forced.stderr
    assert "only an earlier exitscrape release" in forced.stderr
    assert "Traceback" not in forced.stderr
    assert sorted(p.name for p in occupied.iterdir()) == ["keep.txt"]
    assert (occupied / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "occupied.zip").exists()
    assert (data_dir / "releases.json").read_bytes() == registry

    missing = run_cli(
        "release", "--data-dir", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")
    )
    assert missing.returncode == 2 and "no dataset" in missing.stderr
    assert not (tmp_path / "x").exists()


def test_schema_change_makes_a_major_release(tmp_path):
    """A version written under another schema version, then one under this one: 2.0.0."""
    store = DatasetStore(tmp_path / "data")
    tables = one_programme_tables(programme_id="p-no", country="Norway", country_code="NO")
    store.publish(tables, "digest-1", {"schema_version": "1.0.0"})
    assert release(store.root, tmp_path / "r1").returncode == 0
    store.publish(tables, "digest-2", {})
    result = release(store.root, tmp_path / "r2")
    assert result.returncode == 0, result.stderr
    assert "release 2.0.0" in result.stdout and "major" in result.stdout


@pytest.mark.parametrize(
    ("diff", "schema_changed", "level"),
    [
        (Diff(), True, "major"),
        (Diff(added_columns=["references"]), False, "major"),
        (Diff(removed_columns=["regions"], added=[{}]), False, "major"),
        (Diff(added=[{}]), False, "minor"),
        (Diff(removed=[{}], changed=["x"]), False, "minor"),
        (Diff(changed=["x"]), False, "patch"),
        (Diff(), False, "patch"),
    ],
)
def test_change_level(diff, schema_changed, level):
    assert change_level(diff, schema_changed) == level


def test_bump():
    assert bump("1.2.3", "major") == "2.0.0"
    assert bump("1.2.3", "minor") == "1.3.0"
    assert bump("1.2.3", "patch") == "1.2.4"

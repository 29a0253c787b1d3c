"""``exitscrape verify``, what readers say about damage, and a crawl that meets a damaged latest
version (it publishes past it instead of calling the data unchanged)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from exitscrape.cli import main
from exitscrape.dataset.store import DatasetStore
from exitscrape.snapshot.server import SiteServer
from tests.conftest import copy_data_dir, crawl, report, run_cli

HII = "healthy-identity-intervention-hii-gb"


@pytest.fixture
def data_dir(snapshot_versions: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(snapshot_versions, tmp_path / "data"))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_names_every_damaged_file(data_dir: Path) -> None:
    old, new = DatasetStore(data_dir).versions()
    ok = run_cli("verify", "--all", "--data-dir", str(data_dir))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"ok       {old}  (3 files, " in ok.stdout and "all 2 versions hold" in ok.stdout

    truncate(data_dir / new / "programmes.parquet")
    flip_a_byte(data_dir / old / "pages.parquet")
    (data_dir / "backup").mkdir()
    (data_dir / "backup" / "manifest.json").write_text("{}")

    latest = run_cli("verify", "--data-dir", str(data_dir))
    assert latest.returncode == 5
    assert latest.stdout.splitlines()[:2] == [
        f"DAMAGED  {new}",
        f"  {new}/programmes.parquet: "
        + latest.stdout.split(f"{new}/programmes.parquet: ")[1].splitlines()[0],
    ]
    assert "(truncated or replaced)" in latest.stdout and old not in latest.stdout
    assert "1 problem, 1 of 1 version damaged" in latest.stderr

    every = run_cli("verify", "--all", "--json", "--data-dir", str(data_dir))
    assert every.returncode == 5
    document = json.loads(every.stdout)
    assert document["versions"][old] == [
        f"{old}/pages.parquet: its SHA-256 differs from the manifest's "
        "(changed since it was published)"
    ]
    assert len(document["versions"][new]) == 1 and len(document["problems"]) == 2
    assert document["ignored"] == ["backup: not a version name (YYYYMMDDTHHMMSSZ): ignored"]

    just_old = run_cli("verify", old[:15], "--data-dir", str(data_dir))
    assert just_old.returncode == 5 and new not in just_old.stdout


def test_readers_name_the_damaged_file_in_one_line(data_dir: Path) -> None:
    old, new = DatasetStore(data_dir).versions()
    damaged = data_dir / new / "programmes.parquet"
    truncate(damaged)
    for args in (["show", HII], ["diff", old, new], ["show", HII, "--version", new, "--json"]):
        result = run_cli(*args, "--data-dir", str(data_dir))
        assert result.returncode == 5, (args, result.stderr)
        assert result.stderr.splitlines() == [
            f"exitscrape: {damaged}: " + result.stderr.split(f"{damaged}: ")[1].splitlines()[0]
        ]
        assert "bytes, the manifest says" in result.stderr and "Traceback" not in result.stderr
    listing = run_cli("versions", "--data-dir", str(data_dir))
    assert listing.returncode == 5
    assert old in listing.stdout and f"* {new}  DAMAGED" in listing.stdout  # the rest is listed
    assert f"exitscrape: {damaged}: " in listing.stderr and "Traceback" not in listing.stderr
    # Garbage of the right size: readers cannot tell by size, so pyarrow's error is named.
    damaged.write_bytes(b"\0" * (json.loads((data_dir / new / "manifest.json").read_text())[
        "files"]["programmes.parquet"]["bytes"]))  # fmt: skip
    garbage = run_cli("show", HII, "--data-dir", str(data_dir))
    assert garbage.returncode == 5 and "cannot be read as Parquet" in garbage.stderr
    assert len(garbage.stderr.splitlines()) == 1


def test_a_crawl_publishes_past_a_damaged_latest_version(
    crawled_snapshot: Path, session_snapshot_server: SiteServer, tmp_path: Path
) -> None:
    """The site is unchanged, so a quick check would say so: but the latest version is damaged,
    so the crawl must not trust it."""
    data = copy_data_dir(crawled_snapshot, tmp_path)
    store = DatasetStore(data)
    (damaged,) = store.versions()
    truncate(data / damaged / "programmes.parquet")
    result = crawl(session_snapshot_server.url, data)
    assert result.returncode == 0, result.stderr
    assert f"damaged: {damaged}/programmes.parquet: " in result.stdout
    fresh = store.latest()
    assert fresh is not None and fresh != damaged
    assert (
        f"published version {fresh} in {data.resolve()}, past the damaged latest" in result.stdout
    )
    run = report(data)
    assert run["outcome"] == "published" and run["quick_check"] is None
    assert run["damaged_latest"][0].startswith(f"{damaged}/programmes.parquet: ")
    assert store.manifest(fresh)["replaces_damaged"] == run["damaged_latest"]
    assert store.verify(fresh) == []
    again = crawl(session_snapshot_server.url, data)  # a healthy latest: a quick check again
    assert again.returncode == 0 and "nothing parsed, nothing published" in again.stdout


def test_planted_names_reach_the_terminal_as_escapes(data_dir: Path, capsys) -> None:
    new = DatasetStore(data_dir).versions()[-1]
    (data_dir / new / "x\x1b]0;pwned\x07\nok       forged").write_text("planted")
    assert main(["verify", "--data-dir", str(data_dir)]) == 5
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\nok       forged" not in out
    assert f"  {new}/x\\x1b]0;pwned\\x07\\x0aok       forged: not listed in the manifest" in out

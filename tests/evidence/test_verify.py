"""``exitscrape verify``, evidence included: a version is intact, or each thing wrong with its
captures is named (exit 5)."""

from __future__ import annotations

import json
import os
import shutil

from exitscrape.dataset.store import DatasetStore
from tests.conftest import one_programme_tables, run_cli
from tests.evidence.conftest import GZIP_PAGE, flip_byte, forge

DAMAGED = 5


def verify(data, *args: str):
    return run_cli("verify", *args, "--data-dir", str(data), timeout=120)


def test_an_intact_version_verifies(crawled) -> None:
    result = verify(crawled.data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok       {crawled.version}  (3 files, " in result.stdout
    assert "captured responses checked)" in result.stdout


def test_a_changed_byte_is_named(crawled, tmp_path) -> None:
    data = crawled.copy(tmp_path / "data")
    flip_byte(data / crawled.version / "captures.warc.gz")
    result = verify(data, "--all")
    assert result.returncode == DAMAGED
    assert f"DAMAGED  {crawled.version}" in result.stdout
    # Against the manifest, and record by record (which records, and how, depends on where the
    # byte fell: a gzip member that no longer inflates, a digest that fails, records lost).
    assert f"{crawled.version}/captures.warc.gz: its SHA-256 differs" in result.stdout
    assert result.stdout.count("captures.warc.gz") >= 2


def test_a_forged_body_with_matching_digests_and_manifest_is_caught(crawled, tmp_path) -> None:
    """A forger who rewrites a page in the captures and recomputes every digest and checksum
    still cannot match the pages table's hash of the body the crawl read."""
    data = crawled.copy(tmp_path / "data")

    def edit(record, payload: bytes) -> bytes:
        uri = record.rec_headers.get_header("WARC-Target-URI") or ""
        if record.rec_type == "response" and uri.endswith("/mentoring-programme.html"):
            return payload.replace(b"Norway", b"Sweden")
        return payload

    forge(data / crawled.version, edit)
    result = verify(data)
    assert result.returncode == DAMAGED
    row = f"{crawled.version}/pages.parquet: row {crawled.url}mentoring-programme.html"
    assert f"{row}: the body of its response" in result.stdout
    assert "captures.warc.gz: its SHA-256" not in result.stdout  # the manifest was forged too


def test_a_dropped_response_is_named(crawled, tmp_path) -> None:
    data = crawled.copy(tmp_path / "data")
    forge(
        data / crawled.version,
        lambda record, payload: (
            None
            if (record.rec_headers.get_header("WARC-Target-URI") or "").endswith(GZIP_PAGE)
            else payload
        ),
    )
    result = verify(data)
    assert result.returncode == DAMAGED
    assert f"row {crawled.url}{GZIP_PAGE.lstrip('/')}: its response" in result.stdout
    assert "is not in captures.warc.gz" in result.stdout


def test_a_planted_symlink_is_refused_not_followed(crawled, tmp_path) -> None:
    data = crawled.copy(tmp_path / "data")
    captures = data / crawled.version / "captures.warc.gz"
    captures.unlink()
    os.symlink("/dev/zero", captures)  # followed, hashing it would never end
    result = verify(data)
    assert result.returncode == DAMAGED
    assert f"{crawled.version}/captures.warc.gz: a symbolic link" in result.stdout


def test_every_version_and_its_rebuild(snapshot_versions, tmp_path) -> None:
    """Two versions, the second crawled after a quick check (its pages served by the HTTP cache
    are in its captures with the cached body): both verify, both rebuild the same."""
    data = shutil.copytree(snapshot_versions, tmp_path / "data")
    result = verify(data, "--all", "--rebuild")
    assert result.returncode == 0, result.stdout + result.stderr
    for version in DatasetStore(data).versions():
        assert f"ok       {version}  (" in result.stdout
    assert result.stdout.count("captured responses checked, rebuilt the same)") == 2
    as_json = json.loads(verify(data, "--all", "--json").stdout)
    assert as_json["problems"] == []


def test_a_version_without_captures_is_not_damaged(tmp_path) -> None:
    store = DatasetStore(tmp_path / "data")
    store.publish(one_programme_tables(), "digest", {"exitscrape_version": "0.1.0"})
    result = verify(store.root, "--rebuild")
    assert result.returncode == 0, result.stdout
    assert "; no captures)" in result.stdout

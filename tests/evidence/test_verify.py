"""``exitscrape verify``: a version is intact, or each thing wrong with it is named."""

from __future__ import annotations

import json
import os
import shutil

from exitscrape.dataset.store import DatasetStore
from tests.conftest import one_programme_tables, run_cli
from tests.evidence.conftest import GZIP_PAGE, flip_byte, forge


def verify(data, *args: str):
    return run_cli("verify", *args, "--data-dir", str(data), timeout=120)


def test_an_intact_version_verifies(crawled) -> None:
    result = verify(crawled.data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{crawled.version}: ok; " in result.stdout
    assert "captured responses checked" in result.stdout


def test_a_changed_byte_is_named(crawled, tmp_path) -> None:
    data = crawled.copy(tmp_path / "data")
    flip_byte(data / crawled.version / "captures.warc.gz")
    result = verify(data, "--all")
    assert result.returncode == 1
    assert f"{crawled.version}: FAILED" in result.stdout
    assert "captures.warc.gz: SHA-256" in result.stdout  # against the manifest
    assert "changed after publishing" in result.stdout


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
    assert result.returncode == 1
    assert f"pages row {crawled.url}mentoring-programme.html: the body of its response" in (
        result.stdout
    )
    assert "captures.warc.gz: SHA-256" not in result.stdout  # the manifest was forged too


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
    assert result.returncode == 1
    assert f"pages row {crawled.url}{GZIP_PAGE.lstrip('/')}: its response" in result.stdout
    assert "is not in captures.warc.gz" in result.stdout


def test_a_planted_symlink_is_refused_not_followed(crawled, tmp_path) -> None:
    data = crawled.copy(tmp_path / "data")
    captures = data / crawled.version / "captures.warc.gz"
    captures.unlink()
    os.symlink("/dev/zero", captures)  # followed, hashing it would never end
    result = verify(data)
    assert result.returncode == 1
    assert "captures.warc.gz: cannot read it: a symbolic link" in result.stdout


def test_every_version_and_its_rebuild(snapshot_versions, tmp_path) -> None:
    """Two versions, the second crawled after a quick check (its pages served by the HTTP cache
    are in its captures with the cached body): both verify, both rebuild the same."""
    data = shutil.copytree(snapshot_versions, tmp_path / "data")
    result = verify(data, "--all", "--rebuild", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads(result.stdout)
    assert [r["version"] for r in results] == DatasetStore(data).versions()
    assert all(r["problems"] == [] for r in results)


def test_a_version_without_captures_is_noted_not_failed(tmp_path) -> None:
    store = DatasetStore(tmp_path / "data")
    store.publish(one_programme_tables(), "digest", {"exitscrape_version": "0.1.0"})
    result = verify(store.root)
    assert result.returncode == 0, result.stdout
    assert "has no captures" in result.stdout


def test_usage_errors(tmp_path) -> None:
    assert verify(tmp_path / "none").returncode == 2
    result = verify(tmp_path, "latest", "--all")
    assert result.returncode == 2 and "not both" in result.stderr

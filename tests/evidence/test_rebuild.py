"""``exitscrape rebuild``: a version re-derived from its captures alone, with no network."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pyarrow as pa
import pyarrow.parquet as pq

from exitscrape import __version__
from exitscrape.dataset.store import DatasetStore
from tests.conftest import one_programme_tables, run_cli
from tests.evidence.conftest import EvidenceServer, faulty, flip_byte, forge, manifest


def rebuild(data, *args: str):
    return run_cli("rebuild", *args, "--data-dir", str(data), timeout=120)


def test_rebuild_with_the_site_down_is_equal(crawled) -> None:
    result = rebuild(crawled.data, "latest")  # the fixture's server is stopped
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"programmes: equal to version {crawled.version}'s" in result.stdout
    assert "(0 not captured), " in result.stdout and "no network used" in result.stdout


def test_rebuild_sends_nothing_to_the_site_and_follows_the_same_answers(crawled) -> None:
    """With the site up again on its port, a rebuild still asks it nothing: robots.txt,
    redirects, the 500 retried, the HEAD refused all come from the captures."""
    with faulty(EvidenceServer(crawled.site, port=crawled.port)) as server:
        result = rebuild(crawled.data, crawled.version, "-q")
        assert server.requests == []
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"programmes: equal to version {crawled.version}'s"


def test_publish_a_rebuild_of_an_older_version(snapshot_versions, tmp_path) -> None:
    data = shutil.copytree(snapshot_versions, tmp_path / "data")
    store = DatasetStore(data)
    old, latest = store.versions()
    result = rebuild(data, old, "--publish")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"programmes: equal to version {old}'s" in result.stdout
    new = store.latest()
    assert new not in (old, latest) and f"published version {new} (rebuilt from {old})" in (
        result.stdout
    )
    document = manifest(data / new)
    assert document["rebuilt_from"] == old and document["rebuilt_by"] == __version__
    assert document["parent"] == latest
    assert (data / new / "captures.warc.gz").read_bytes() == (
        data / old / "captures.warc.gz"
    ).read_bytes()
    assert run_cli("diff", old, new, "--data-dir", str(data)).stdout.splitlines()[1:] == [
        "no differences"
    ]
    # The rebuilt pages name records of the captures published with it, at the same dates (the
    # page a URL was first reached from depends on the order answers come in: not compared).
    assert (
        store.read("pages", new)
        .drop(["referer"])
        .equals(store.read("pages", old).drop(["referer"]))
    )
    assert run_cli("verify", new, "--data-dir", str(data)).returncode == 0


def test_differences_are_named_and_fail(crawled, tmp_path) -> None:
    data = crawled.copy(tmp_path / "data")
    path = data / crawled.version / "programmes.parquet"
    table = pq.read_table(path)
    rows = table.to_pylist()
    changed = next(r for r in rows if r["organisation"])
    changed["organisation"] = "Someone else"
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    document = manifest(data / crawled.version)  # as if an older extraction had published it
    document["files"]["programmes.parquet"] = {
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    (data / crawled.version / "manifest.json").write_text(json.dumps(document))
    result = rebuild(data, "latest")
    assert result.returncode == 1
    assert (
        f"programmes: DIFFER from version {crawled.version}'s: 0 added, 0 removed, 1 changed"
        in (result.stdout)
    )
    assert f"~ changed  {changed['programme_id']}" in result.stdout
    assert 'organisation: "Someone else" → ' in result.stdout
    assert DatasetStore(data).versions() == [crawled.version]  # nothing published


def test_a_request_the_captures_lack_fails_as_not_captured(crawled, tmp_path) -> None:
    data = crawled.copy(tmp_path / "data")
    forge(
        data / crawled.version,
        lambda record, payload: (
            None
            if (record.rec_headers.get_header("WARC-Target-URI") or "").endswith(
                "/exit-ndash-germany.html"
            )
            else payload
        ),
    )
    dry = rebuild(data, "latest")
    assert dry.returncode == 1
    assert "- removed" not in dry.stdout  # still found at its other URL, new-home.html
    assert "source_urls" in dry.stdout and "(1 not captured)" in dry.stdout
    published = rebuild(data, "latest", "--publish")
    assert published.returncode == 0, published.stdout + published.stderr
    pages = DatasetStore(data).read("pages").to_pylist()
    (row,) = [p for p in pages if p["url"].endswith("/exit-ndash-germany.html")]
    assert row["kind"] == "failed" and row["status"] is None
    assert row["error"] == f"NotCaptured: not captured in version {crawled.version}"


def test_captures_changed_after_publishing_are_refused(crawled, tmp_path) -> None:
    data = crawled.copy(tmp_path / "data")
    flip_byte(data / crawled.version / "captures.warc.gz")
    result = rebuild(data, "latest", "--publish")
    assert result.returncode == 5  # a damaged version
    assert f"cannot rebuild version {crawled.version}: it fails verification" in result.stderr
    assert "captures.warc.gz: its SHA-256 differs" in result.stderr
    assert DatasetStore(data).versions() == [crawled.version]


def test_settings_in_the_captures_beyond_the_result_ones_are_ignored(crawled, tmp_path) -> None:
    """A warcinfo that names components (code to load: a module that does not even exist) or a
    log file is not obeyed."""
    data = crawled.copy(tmp_path / "data")
    marker = tmp_path / "loaded"

    def edit(record, payload: bytes) -> bytes:
        if record.rec_type != "warcinfo":
            return payload
        lines = payload.decode().splitlines()
        settings = json.loads(
            next(line for line in lines if line.startswith("exitscrape-")).split(": ", 1)[1]
        )
        settings["ITEM_PIPELINES"] = {"tests.evidence.planted.Pipeline": 1}
        settings["LOG_FILE"] = str(marker)
        rest = [line for line in lines if not line.startswith("exitscrape-settings")]
        return "\r\n".join([*rest, f"exitscrape-settings: {json.dumps(settings)}", ""]).encode()

    forge(data / crawled.version, edit)
    result = rebuild(data, "latest", "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ignoring setting ITEM_PIPELINES recorded in the captures" in result.stderr
    assert not marker.exists()


def test_a_replay_that_stops_early_gives_no_verdict(crawled, tmp_path) -> None:
    """A replay cut short (here by a page limit planted in the captures' settings; Ctrl-C is the
    usual cause) says so rather than list the pages it never reached as differences."""
    data = crawled.copy(tmp_path / "data")

    def edit(record, payload: bytes) -> bytes:
        if record.rec_type != "warcinfo":
            return payload
        return re.sub(rb'"CLOSESPIDER_PAGECOUNT": \d+', b'"CLOSESPIDER_PAGECOUNT": 3', payload)

    forge(data / crawled.version, edit)
    result = rebuild(data, "latest")
    assert result.returncode == 1
    assert "the replay ended with closespider_pagecount, the crawl with finished" in result.stderr
    assert "no verdict" in result.stderr and "DIFFER" not in result.stdout


def test_a_version_without_captures_cannot_be_rebuilt(tmp_path) -> None:
    store = DatasetStore(tmp_path / "data")
    store.publish(one_programme_tables(), "digest", {"exitscrape_version": "0.1.0"})
    result = rebuild(store.root, "latest")
    assert result.returncode == 2
    assert "cannot rebuild: version" in result.stderr and "has no captures" in result.stderr
    assert len(store.versions()) == 1

"""The dataset store: atomic, immutable, time-named versions; nothing new when unchanged."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

import exitscrape
from exitscrape.dataset.assemble import CrawlRecords, assemble
from exitscrape.dataset.schema import PROGRAMMES
from exitscrape.dataset.store import DatasetError, DatasetStore, file_sha256, resolve_data_dir
from exitscrape.items import Category, PageItem, ProgrammeItem, SiteMenu

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def records(description: str = "About it.") -> CrawlRecords:
    out = CrawlRecords()
    out.add(
        SiteMenu(
            url="http://h/",
            categories={"http://h/cat.html": Category("prison", "islamist")},
            links=["http://h/", "http://h/cat.html"],
        )
    )
    out.add(
        PageItem(
            url="http://h/cat.html",
            final_url="http://h/cat.html",
            status=200,
            fetched_at=NOW,
            links=["http://h/p.html"],
        )
    )
    out.add(
        PageItem(
            url="http://h/p.html",
            final_url="http://h/p.html",
            status=200,
            fetched_at=NOW,
            is_programme=True,
        )
    )
    out.add(
        ProgrammeItem(
            url="http://h/p.html",
            fetched_at=NOW,
            name="Alpha",
            country="Norway",
            country_code="NO",
            objectives=["a"],
            description=description,
        )
    )
    return out


def publish(store: DatasetStore, description: str = "About it.") -> str | None:
    tables = assemble(records(description))
    return store.publish(tables.as_dict, tables.digest, {"start_url": "http://h/"})


def test_publish_layout_manifest_and_load(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    version = publish(store)
    assert version is not None
    assert (tmp_path / "LATEST").read_text().strip() == version
    manifest = json.loads((tmp_path / version / "manifest.json").read_text())
    assert manifest["version"] == version and manifest["parent"] is None
    assert manifest["rows"] == {"programmes": 1, "pages": 2}
    for name, info in manifest["files"].items():
        path = tmp_path / version / name
        assert info == {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    frame = exitscrape.load(data_dir=tmp_path)
    assert frame.loc[0, "programme_id"] == "alpha-no"
    assert frame.loc[0, "settings"] == ["prison"] and frame.loc[0, "objectives"] == ["a"]
    assert str(frame["crawled_at"].dtype) == "datetime64[us, UTC]"


def test_parquet_schema_has_descriptions_and_lists(tmp_path) -> None:
    import pyarrow.parquet as pq

    store = DatasetStore(tmp_path)
    version = publish(store)
    schema = pq.read_schema(tmp_path / version / "programmes.parquet")
    assert pa.types.is_list(schema.field("objectives").type)
    for field in PROGRAMMES:
        assert schema.field(field.name).metadata[b"description"]


def test_unchanged_publishes_nothing_and_change_publishes_one(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    first = publish(store)
    assert publish(store) is None  # same programmes (only crawl times differ)
    assert store.versions() == [first]
    second = publish(store, description="Edited.")
    assert second is not None and second > first
    assert store.versions() == [first, second]
    assert store.manifest(second)["parent"] == first
    # The old version is untouched and still loads with the old value.
    old = exitscrape.load(version=first, data_dir=tmp_path)
    assert old.loc[0, "description"] == "About it."
    assert exitscrape.load(data_dir=tmp_path).loc[0, "description"] == "Edited."


def test_failed_publish_leaves_latest_untouched(tmp_path, monkeypatch) -> None:
    store = DatasetStore(tmp_path)
    first = publish(store)
    import pyarrow.parquet as pq

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError):
        publish(store, description="Edited.")
    assert store.latest() == first and store.versions() == [first]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_leftover_temporary_dirs_are_invisible_and_cleaned(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    first = publish(store)
    partial = tmp_path / ".tmp-crashed"
    partial.mkdir()
    (partial / "programmes.parquet").write_bytes(b"half")
    assert store.versions() == [first]
    publish(store, description="Edited.")
    assert not partial.exists()


def stage(store: DatasetStore, data: bytes) -> Path:
    path, file = store.stage(suffix="-captures.warc.gz")
    with file:
        file.write(data)
    return path


def test_staged_files_are_moved_into_the_version_and_listed(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    staged = stage(store, b"evidence")
    assert staged.parent == tmp_path and staged.name.startswith(".tmp-")
    tables = assemble(records())
    version = store.publish(tables.as_dict, tables.digest, {}, files={"captures.warc.gz": staged})
    assert version is not None and not staged.exists()
    published = tmp_path / version / "captures.warc.gz"
    assert published.read_bytes() == b"evidence"
    assert oct(published.stat().st_mode & 0o777) == "0o644"
    listed = store.manifest(version)["files"]["captures.warc.gz"]
    assert listed == {"bytes": 8, "sha256": file_sha256(published)}
    # Unchanged programmes: nothing published, the staged file left for its run to remove.
    again = stage(store, b"more")
    assert store.publish(tables.as_dict, tables.digest, {}, files={"c.warc.gz": again}) is None
    assert again.read_bytes() == b"more"


def test_extra_files_cannot_overwrite_a_version_file_or_escape_it(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    tables = assemble(records())
    for name in ("manifest.json", "pages.parquet", "../x", "a/b", "", ".."):
        with pytest.raises(ValueError, match="not a name"):
            store.publish(tables.as_dict, tables.digest, {}, files={name: stage(store, b"x")})
    assert store.versions() == []


def test_leftover_staged_files_and_planted_links_are_removed_not_followed(tmp_path) -> None:
    store = DatasetStore(tmp_path / "data")
    store.root.mkdir()
    leftover = store.root / ".tmp-k1ll3d-captures.warc.gz"  # staged by a run since killed
    leftover.write_bytes(b"from a killed run")
    ours = stage(store, b"this run's, still being written")
    target = tmp_path / "precious"
    target.mkdir()
    (target / "file").write_text("keep")
    (store.root / ".tmp-planted-dir").symlink_to(target)
    (store.root / ".tmp-planted-file").symlink_to(target / "file")
    assert publish(store) is not None
    assert [p for p in store.root.iterdir() if p.name.startswith(".tmp-")] == [ours]
    assert not leftover.exists()
    assert (target / "file").read_text() == "keep"


def test_versions_sort_by_time_within_one_second(tmp_path) -> None:
    store = DatasetStore(tmp_path)
    names = [publish(store, description=f"v{i}") for i in range(3)]
    assert names == sorted(names) and len(set(names)) == 3
    assert store.resolve(names[1]) == names[1]


def test_versions_named_by_as_of_must_sort_after_the_latest(tmp_path) -> None:
    store = DatasetStore(tmp_path)

    def publish_as_of(when: datetime, description: str) -> str | None:
        tables = assemble(records(description))
        return store.publish(tables.as_dict, tables.digest, {}, named_at=when)

    assert publish_as_of(datetime(2019, 6, 1, 12, tzinfo=UTC), "a") == "20190601T120000Z"
    assert publish_as_of(datetime(2019, 6, 1, 12, tzinfo=UTC), "b") == "20190601T120000Z-001"
    with pytest.raises(DatasetError, match="would sort before the latest version"):
        publish_as_of(datetime(2019, 1, 1, tzinfo=UTC), "c")
    assert store.versions() == ["20190601T120000Z", "20190601T120000Z-001"]
    assert store.latest() == "20190601T120000Z-001"


def test_clear_errors(tmp_path) -> None:
    with pytest.raises(DatasetError, match="run `exitscrape crawl` first"):
        exitscrape.load(data_dir=tmp_path / "nothing")
    store = DatasetStore(tmp_path)
    publish(store)
    with pytest.raises(DatasetError, match="unknown table"):
        exitscrape.load("nope", data_dir=tmp_path)
    with pytest.raises(DatasetError, match=r"no version .1999."):
        exitscrape.load(version="1999", data_dir=tmp_path)


def test_data_dir_resolution(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("EXITSCRAPE_DATA_DIR", raising=False)
    assert str(resolve_data_dir()) == "datasets/exit_programmes"
    monkeypatch.setenv("EXITSCRAPE_DATA_DIR", str(tmp_path))
    assert resolve_data_dir() == tmp_path
    assert str(resolve_data_dir("explicit")) == "explicit"
    assert os.fspath(resolve_data_dir(tmp_path / "x")) == os.fspath(tmp_path / "x")

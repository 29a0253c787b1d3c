"""A rerun of an unchanged site answers each 304 from the cache without writing the entry back
(writing it back made reruns as slow as first crawls: BENCHMARKS.md)."""

from __future__ import annotations

from pathlib import Path

from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteServer
from tests.conftest import crawl


def _entries(cache: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in cache.rglob("*") if path.is_file()}


def test_unchanged_pages_are_not_rewritten_in_the_cache(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with SiteServer(SNAPSHOT_DIR) as server:
        first = crawl(server.url, data)
        assert first.returncode == 0, first.stderr
        stored = _entries(data / "cache")
        assert len(stored) > 30  # every page's entry
        server.requests.clear()
        second = crawl(server.url, data)
        assert second.returncode == 0, second.stderr
        assert "unchanged" in second.stdout
    assert {status for _, _, status in server.requests} == {304}
    assert _entries(data / "cache") == stored

"""The revalidating HTTP cache: policy and storage, without a crawl."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from exitscrape.incremental.cache import CacheStorage, RevalidatingPolicy, cache_dir
from exitscrape.snapshot.server import SiteServer
from tests.conftest import copy_data_dir, crawl

VALIDATORS = {"ETag": '"abc"', "Last-Modified": "Mon, 02 Jan 2026 03:04:05 GMT"}


def test_a_stored_page_is_always_revalidated() -> None:
    policy = RevalidatingPolicy(Settings())
    cached = HtmlResponse(
        "http://x/a.html", body=b"<p>a</p>", headers={**VALIDATORS, "Cache-Control": "max-age=9999"}
    )
    request = Request("http://x/a.html")
    assert policy.is_cached_response_fresh(cached, request) is False  # even "fresh" pages
    assert request.headers[b"If-None-Match"] == b'"abc"'
    assert request.headers[b"If-Modified-Since"] == VALIDATORS["Last-Modified"].encode()
    assert policy.is_cached_response_valid(cached, Response(request.url, status=304), request)
    for status in (200, 500, 503):  # a server error is this run's failure, not a stale copy
        fresh = Response(request.url, status=status)
        assert not policy.is_cached_response_valid(cached, fresh, request)


def test_cache_dir_is_beside_the_data_or_configured(tmp_path: Path) -> None:
    assert cache_dir(Settings({"EXITSCRAPE_DATA_DIR": str(tmp_path)})) == tmp_path / "cache"
    configured = Settings({"EXITSCRAPE_DATA_DIR": "x", "EXITSCRAPE_CACHE_DIR": str(tmp_path)})
    assert cache_dir(configured) == tmp_path


@pytest.fixture
def storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CacheStorage, Spider]:
    monkeypatch.chdir(tmp_path)  # no scrapy.cfg here: the cache must still work
    settings = {"EXITSCRAPE_DATA_DIR": "data", "HTTPCACHE_GZIP": True}
    crawler = get_crawler(Spider, settings)
    spider = Spider.from_crawler(crawler, name="s")
    store = CacheStorage(crawler.settings)
    store.open_spider(spider)
    return store, spider


def test_entries_are_replaced_whole(storage: tuple[CacheStorage, Spider], tmp_path: Path) -> None:
    store, spider = storage
    assert store.cachedir == tmp_path / "data" / "cache"
    request = Request("http://x/a.html")
    assert store.retrieve_response(spider, request) is None
    store.store_response(
        spider, request, HtmlResponse(request.url, body=b"one", headers=VALIDATORS)
    )
    entry = store.path(spider, request)
    # What a run killed while storing leaves behind: a half-written staging file.
    (entry.parent / f".staging-{entry.name}").write_bytes(b"torn")
    cached = store.retrieve_response(spider, request)
    assert isinstance(cached, HtmlResponse)
    assert (cached.body, cached.headers[b"ETag"], cached.status) == (b"one", b'"abc"', 200)

    store.store_response(
        spider, request, HtmlResponse(request.url, body=b"two", headers=VALIDATORS)
    )
    assert store.retrieve_response(spider, request).body == b"two"
    assert sorted(p.name for p in entry.parent.iterdir()) == sorted(
        [entry.name, f".staging-{entry.name}"]  # only the entry and the torn file planted above
    )


def test_an_unreadable_entry_is_a_miss(storage: tuple[CacheStorage, Spider]) -> None:
    store, spider = storage
    request = Request("http://x/b.html")
    store.store_response(spider, request, HtmlResponse(request.url, body=b"b"))
    store.path(spider, request).write_bytes(b"not gzip at all")  # torn by a power cut, say
    assert store.retrieve_response(spider, request) is None


def test_one_file_per_page(storage: tuple[CacheStorage, Spider]) -> None:
    store, spider = storage
    for n in range(3):
        request = Request(f"http://x/{n}.html")
        store.store_response(spider, request, HtmlResponse(request.url, body=b"x"))
    assert len([p for p in (store.cachedir / spider.name).rglob("*") if p.is_file()]) == 3


def test_entries_of_the_former_layout_are_dropped_once(tmp_path: Path) -> None:
    settings = {"EXITSCRAPE_DATA_DIR": str(tmp_path / "data"), "HTTPCACHE_GZIP": True}
    crawler = get_crawler(Spider, settings)
    spider = Spider.from_crawler(crawler, name="s")
    request = Request("http://x/a.html")
    old = CacheStorage(crawler.settings)
    old._fingerprinter = crawler.request_fingerprinter
    entry = old.path(spider, request)
    entry.mkdir(parents=True)  # Scrapy's filesystem storage: a directory of files per page
    (entry / "pickled_meta").write_bytes(b"old")

    store = CacheStorage(crawler.settings)
    store.open_spider(spider)
    assert not entry.exists()
    store.store_response(spider, request, HtmlResponse(request.url, body=b"new"))
    assert store.retrieve_response(spider, request).body == b"new"
    assert entry.is_file()


class _Payload:
    """Unpickling this creates the file *path*: what a planted cache entry could do."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.path),)


def pickle_payload(path: Path) -> bytes:
    """A gzipped pickle that runs ``os.mkdir(path)`` when unpickled."""
    return gzip.compress(pickle.dumps({"timestamp": 0, "response": _Payload(path)}))


def test_a_planted_pickle_is_a_miss_and_runs_nothing(
    storage: tuple[CacheStorage, Spider], tmp_path: Path
) -> None:
    store, spider = storage
    request = Request("http://x/a.html")
    entry = store.path(spider, request)
    entry.parent.mkdir(parents=True)
    entry.write_bytes(pickle_payload(tmp_path / "pwned"))
    pickle.loads(gzip.decompress(entry.read_bytes()))  # the payload is armed: unpickling it...
    (tmp_path / "pwned").rmdir()  # ...made the directory
    assert store.retrieve_response(spider, request) is None
    assert not (tmp_path / "pwned").exists()


def test_entries_keep_every_byte_and_refuse_bombs_and_fifos(tmp_path: Path) -> None:
    settings = {"EXITSCRAPE_DATA_DIR": str(tmp_path), "DOWNLOAD_MAXSIZE": 100_000}
    crawler = get_crawler(Spider, settings)
    spider = Spider.from_crawler(crawler, name="s")
    store = CacheStorage(crawler.settings)
    store.open_spider(spider)
    assert store.limit == 100_000 + (1 << 20)
    request = Request("http://x/b.html")
    headers = {"ETag": b'"\xe9t\xe9"', "Content-Type": "text/html; charset=latin-1"}
    body = b"<p>caf\xe9</p>" + bytes(range(256))
    store.store_response(
        spider, request, HtmlResponse(request.url, status=203, headers=headers, body=body)
    )
    cached = store.retrieve_response(spider, request)
    assert isinstance(cached, HtmlResponse)
    assert (cached.status, cached.body, cached.headers[b"ETag"]) == (203, body, b'"\xe9t\xe9"')
    assert isinstance(request.meta["cache_timestamp"], float)

    entry = store.path(spider, request)
    stored = entry.read_bytes()  # HTTPCACHE_GZIP is off here: the entry as it is
    assert stored.startswith(b"exitscrape-cache 2\n")
    for url in (b"http://elsewhere/b.html", b"no-scheme"):  # another page's, or malformed
        entry.write_bytes(
            stored.replace(b'"response_url": "http://x/b.html"', b'"response_url": "' + url + b'"')
        )
        assert store.retrieve_response(spider, request) is None, url
    bomb = gzip.compress(b"exitscrape-cache 2\n" + b"\0" * (store.limit + 1))
    entry.write_bytes(bomb)  # small on disk, larger than any page once inflated
    assert len(bomb) < store.limit // 100
    assert store.retrieve_response(spider, request) is None
    entry.unlink()
    os.mkfifo(entry)  # would block a plain read forever
    assert store.retrieve_response(spider, request) is None


def test_entries_are_never_written_through_a_planted_directory_link(
    storage: tuple[CacheStorage, Spider], tmp_path: Path
) -> None:
    store, spider = storage
    request = Request("http://x/c.html")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shard = store.path(spider, request).parent
    shard.parent.mkdir(parents=True, exist_ok=True)
    shard.symlink_to(elsewhere)
    store.store_response(spider, request, HtmlResponse(request.url, body=b"c"))
    assert list(elsewhere.iterdir()) == []
    shard.unlink()
    (store.cachedir / spider.name).rename(tmp_path / "spider-dir")
    (store.cachedir / spider.name).symlink_to(tmp_path / "spider-dir")
    store.store_response(spider, request, HtmlResponse(request.url, body=b"c"))
    assert [p for p in (tmp_path / "spider-dir").rglob("*") if p.is_file()] == []


def test_dropping_former_entries_never_follows_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    (victim / "ab" / "cdef").mkdir(parents=True)  # looks like a former entry: a dir two deep
    settings = {"EXITSCRAPE_DATA_DIR": str(tmp_path / "data"), "HTTPCACHE_GZIP": True}
    crawler = get_crawler(Spider, settings)
    spider = Spider.from_crawler(crawler, name="s")
    cache = tmp_path / "data" / "cache"
    cache.mkdir(parents=True)
    (cache / "s").symlink_to(victim)
    (cache / ".one-file-entries").symlink_to(tmp_path / "created-by-touch")
    CacheStorage(crawler.settings).open_spider(spider)
    assert (victim / "ab" / "cdef").is_dir()
    assert not (tmp_path / "created-by-touch").exists()


def test_a_crawl_treats_planted_pickles_as_misses(
    crawled_snapshot: Path, session_snapshot_server: SiteServer, tmp_path: Path
) -> None:
    """Every cache entry replaced by a payload: the next crawl runs none and downloads again."""
    data = copy_data_dir(crawled_snapshot, tmp_path)
    entries = [p for p in (data / "cache" / "exit_practices").rglob("*") if p.is_file()]
    assert len(entries) > 30
    for entry in entries:
        entry.write_bytes(pickle_payload(tmp_path / "pwned"))
    session_snapshot_server.requests.clear()
    result = crawl(session_snapshot_server.url, data, "--full")
    assert result.returncode == 0, result.stderr
    assert "already holds this data" in result.stdout
    assert not (tmp_path / "pwned").exists()
    statuses = [status for _, path, status in session_snapshot_server.requests]
    assert statuses.count(200) >= len(entries) - 1 and 304 not in statuses  # all misses
    rewritten = [p for p in (data / "cache" / "exit_practices").rglob("*") if p.is_file()]
    assert all(
        gzip.decompress(p.read_bytes()).startswith(b"exitscrape-cache 2\n") for p in rewritten
    )

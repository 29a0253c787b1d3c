"""The revalidating HTTP cache: policy and storage, without a crawl."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from exitscrape.incremental.cache import CacheStorage, RevalidatingPolicy, cache_dir

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

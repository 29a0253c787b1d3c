"""The quick check (exitscrape/incremental/quickcheck.py): a rerun compares answers before crawling."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from scrapy.settings import Settings

from exitscrape import __version__
from exitscrape.dataset.store import DatasetStore
from exitscrape.incremental.middleware import FEW_DIFFERENCES
from exitscrape.incremental.quickcheck import (
    PLAN_FILE,
    Answer,
    QuickCheck,
    recorded_answer,
    write_plan,
)
from exitscrape.items import PageItem
from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteServer
from exitscrape.spiders.scope import SiteScope
from tests.conftest import copy_data_dir, crawl, one_programme_tables

PAGE = Answer("http://x/a.html", 200, "aa")
SITE = SiteScope("http://x/")


def row(**values: object) -> dict[str, object]:
    defaults = {
        "url": "http://x/a.html",
        "final_url": "http://x/a.html",
        "status": 200,
        "kind": "programme",
        "body_sha256": "aa",
        "content_type": "text/html",
        "error": None,
    }
    return {**defaults, **values}


def test_answers_compare_what_the_crawl_would_read() -> None:
    assert PAGE.same_as(Answer("http://x/a.html", 200, "aa"))
    assert not PAGE.same_as(Answer("http://x/a.html", 200, "bb"))  # new content
    assert not PAGE.same_as(Answer("http://x/b.html", 200, "aa"))  # now redirects
    assert not PAGE.same_as(Answer(None, 404, None, "HTTP 404"))
    assert PAGE.difference(Answer("http://x/a.html", 200, "bb")) == "content changed"
    assert PAGE.difference(Answer(None, 404, None, "HTTP 404")) == "now HTTP 404, was fine"
    # A redirect the duplicate filter dropped was recorded without a body: now it is followed.
    dropped = Answer("http://x/a.html", 301, None)
    assert dropped.same_as(Answer("http://x/a.html", 200, "aa"))
    assert not dropped.same_as(Answer("http://x/c.html", 200, "aa"))


def test_recorded_answers_keep_errors_only_for_failures() -> None:
    assert recorded_answer(row()) == PAGE
    # An error found in a page's content depends on the content alone: the hash covers it.
    assert recorded_answer(row(error="cannot parse the page")) == PAGE
    failed = row(final_url=None, status=404, body_sha256=None, content_type=None, error="HTTP 404")
    assert recorded_answer(failed) == Answer(None, 404, None, "HTTP 404")
    robots = row(final_url=None, status=None, body_sha256=None, content_type=None)
    robots["error"] = "disallowed by robots.txt"
    assert recorded_answer(robots).error == "disallowed by robots.txt"


@pytest.fixture
def published(tmp_path: Path) -> tuple[Settings, str]:
    data = tmp_path / "data"
    version = DatasetStore(data).publish(one_programme_tables(), "digest", {})
    assert version is not None
    settings = Settings(
        {
            "EXITSCRAPE_DATA_DIR": str(data),
            "EXITSCRAPE_QUICK_CHECK": True,
            "HTTPCACHE_ENABLED": True,
        }
    )
    item = PageItem("http://x/a.html", "http://x/a.html", 200, None, etag='"e1"')
    write_plan(
        settings,
        version=version,
        start_url="http://x/",
        rows=[row()],
        page_items=[item],
        programmes=1,
    )
    return settings, version


def test_a_plan_is_used_only_for_the_latest_version_and_its_start_url(published) -> None:
    settings, version = published
    check = QuickCheck.load(settings, SITE)
    assert check is not None and check.version == version
    assert check.pages["http://x/a.html"].etag == '"e1"'
    assert check.pages["http://x/a.html"].answer == PAGE
    assert QuickCheck.load(settings, SiteScope("http://elsewhere/")) is None

    for name, value in (("EXITSCRAPE_QUICK_CHECK", False), ("HTTPCACHE_ENABLED", False)):
        changed = settings.copy()
        changed.set(name, value)
        assert QuickCheck.load(changed, SITE) is None

    plan = Path(settings["EXITSCRAPE_DATA_DIR"]) / "cache" / PLAN_FILE
    document = json.loads(plan.read_text())
    plan.write_text(json.dumps({**document, "exitscrape_version": "0.0.1"}))
    assert QuickCheck.load(settings, SITE) is None  # another exitscrape: crawl in full
    plan.write_text(json.dumps({**document, "version": "20000101T000000Z"}))
    assert QuickCheck.load(settings, SITE) is None  # not the latest version's plan
    plan.write_text("{torn")
    assert QuickCheck.load(settings, SITE) is None
    assert document["exitscrape_version"] == __version__


def test_first_difference_is_named_once(published) -> None:
    settings, _ = published
    check = QuickCheck.load(settings, SITE)
    assert check is not None
    assert check.observe("http://x/a.html", Answer("http://x/a.html", 200, "new")) is True
    assert check.observe("http://x/a.html", Answer("http://x/a.html", 200, "newer")) is False
    assert check.changed == "http://x/a.html content changed"
    assert not check.unchanged


def report(data: Path) -> dict:
    return json.loads(sorted((data / "runs").glob("*.json"))[-1].read_text())


def test_unchanged_site_is_checked_without_crawling(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with SiteServer(SNAPSHOT_DIR) as server:
        assert crawl(server.url, data).returncode == 0
        assert (data / "cache" / PLAN_FILE).is_file()
        pages = json.loads((data / "cache" / PLAN_FILE).read_text())["pages"]
        server.requests.clear()
        second = crawl(server.url, data)

    assert second.returncode == 0, second.stderr
    assert "nothing parsed, nothing published" in second.stdout
    rerun = report(data)
    assert rerun["outcome"] == "unchanged"
    assert rerun["quick_check"]["changed"] is None
    assert rerun["quick_check"]["confirmed"] == rerun["quick_check"]["pages"] == len(pages)
    assert "item_scraped_count" not in rerun["crawl_stats"]  # nothing was parsed
    assert rerun["programmes"] == 7
    requested = [path for _, path, _ in server.requests if path != "/robots.txt"]
    assert len(requested) == len(set(requested))  # each page asked for once
    statuses = {status for _, path, status in server.requests if path != "/robots.txt"}
    assert statuses == {304}  # and each answered Not Modified


def test_a_changed_page_is_found_and_crawled_once(tmp_path: Path) -> None:
    site = Path(shutil.copytree(SNAPSHOT_DIR, tmp_path / "site"))
    data = tmp_path / "data"
    store = DatasetStore(data)
    page = site / "healthy-identity-intervention-hii.html"
    with SiteServer(site) as server:
        assert crawl(server.url, data).returncode == 0
        page.write_text(page.read_text().replace("Her Majesty&rsquo;s", "His Majesty&rsquo;s"))
        server.requests.clear()
        second = crawl(server.url, data)
        requests = list(server.requests)
        third = crawl(server.url, data)

    assert second.returncode == 0, second.stderr
    assert f"quick check: {server.url}healthy-identity-intervention-hii.html content changed" in (
        second.stdout
    )
    assert len(store.versions()) == 2
    # Pages confirmed by the quick check came from the cache: none was downloaded again, and
    # none asked for more than twice (once by the check, at most once more by the crawl).
    downloaded = {path for _, path, status in requests if status == 200}
    assert downloaded == {"/healthy-identity-intervention-hii.html"}
    paths = [path for _, path, _ in requests]
    assert max(paths.count(p) for p in paths) <= 2
    # Once the difference is found, the pages not checked yet are left to the crawl: the run
    # asks for about as many pages as the site has, not twice as many.
    site_pages = len(json.loads((data / "cache" / PLAN_FILE).read_text())["pages"])
    assert len(requests) <= site_pages + 3
    # The crawl left a plan for the new version: the third run is a quick check again.
    assert third.returncode == 0 and "nothing parsed" in third.stdout


def test_full_crawl_on_request_and_the_plan_survives_a_gated_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    plan = data / "cache" / PLAN_FILE
    with SiteServer(SNAPSHOT_DIR) as server:
        assert crawl(server.url, data).returncode == 0
        written = plan.read_text()
        full = crawl(server.url, data, "--full")
        assert full.returncode == 0 and "already holds this data" in full.stdout
        assert report(data)["quick_check"] is None
        assert report(data)["crawl_stats"]["item_scraped_count"] > 0
        # A run that publishes nothing (a gate fails) leaves the last good crawl's plan...
        gated = crawl(server.url, data, "--full", "-s", "EXITSCRAPE_GATE_MIN_PROGRAMMES=100")
        assert gated.returncode == 3
        assert json.loads(plan.read_text())["version"] == json.loads(written)["version"]
        # ...so the next run still compares the site with the latest version's crawl.
        again = crawl(server.url, data)
    assert again.returncode == 0 and "nothing parsed" in again.stdout


def test_a_cached_copy_is_served_only_with_the_confirmed_body() -> None:
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from exitscrape.incremental.cache import RevalidatingPolicy
    from exitscrape.spiders.meta import CONFIRMED_SHA256 as CONFIRMED

    policy = RevalidatingPolicy(Settings())
    cached = HtmlResponse("http://x/a.html", body=b"old", headers={"ETag": '"e"'})
    old = hashlib.sha256(b"old").hexdigest()
    assert policy.is_cached_response_fresh(cached, Request(cached.url, meta={CONFIRMED: old}))
    # The site was confirmed to serve another body than the cached one: ask again.
    other = Request(cached.url, meta={CONFIRMED: hashlib.sha256(b"new").hexdigest()})
    assert not policy.is_cached_response_fresh(cached, other)
    assert other.headers[b"If-None-Match"] == b'"e"'


def test_a_check_left_without_a_verdict_falls_back_to_a_crawl(monkeypatch) -> None:
    import asyncio
    from types import SimpleNamespace

    from scrapy.exceptions import DontCloseSpider
    from scrapy.utils.test import get_crawler

    from exitscrape.incremental.middleware import QuickCheckMiddleware
    from exitscrape.incremental.quickcheck import PlannedPage
    from exitscrape.spiders import meta
    from exitscrape.spiders.exit_practices import ExitPracticesSpider

    crawler = get_crawler(ExitPracticesSpider)
    crawler.spider = spider = ExitPracticesSpider.from_crawler(crawler, start_url="http://x/")
    check = QuickCheck("v", {"http://x/a.html": PlannedPage(PAGE)}, 1, 0, [])
    monkeypatch.setattr(QuickCheck, "load", classmethod(lambda cls, settings, url: check))
    middleware = QuickCheckMiddleware(crawler)

    async def start() -> list:
        return [request async for request in middleware.process_start(spider.start())]

    (recheck,) = asyncio.run(start())  # the start request is held back during the check
    assert recheck.url == "http://x/a.html" and meta.RECHECK_URL in recheck.meta
    scheduled: list = []
    crawler.engine = SimpleNamespace(crawl=scheduled.append)  # the spider went idle unanswered
    with pytest.raises(DontCloseSpider):
        middleware.spider_idle()
    assert [(r.url, r.meta.get(meta.START)) for r in scheduled] == [("http://x/", True)]
    middleware.spider_idle()  # crawling now: the crawl's own end closes the spider
    assert len(scheduled) == 1


def test_a_site_that_changed_everywhere_costs_one_crawl_not_two(tmp_path: Path) -> None:
    site = Path(shutil.copytree(SNAPSHOT_DIR, tmp_path / "site"))
    data = tmp_path / "data"
    with SiteServer(site) as server:
        assert crawl(server.url, data).returncode == 0
        pages = json.loads((data / "cache" / PLAN_FILE).read_text())["pages"]
        for page in site.glob("*.html"):  # a site that stamps every page (a rebuild, say)
            page.write_text(page.read_text() + "<!-- rebuilt -->")
        server.requests.clear()
        rerun = crawl(server.url, data)
        requests = [path for _, path, _ in server.requests if path != "/robots.txt"]
    assert rerun.returncode == 0, rerun.stderr
    assert "content changed; crawled the site" in rerun.stdout
    # The check stops once more than a few pages differ and the crawl takes over: each page
    # about once (the pages that differed, and one request in flight, twice).
    assert len(requests) <= len(pages) + FEW_DIFFERENCES + 2


def test_a_plan_listing_urls_off_the_site_is_not_used(published) -> None:
    settings, _ = published
    plan = Path(settings["EXITSCRAPE_DATA_DIR"]) / "cache" / PLAN_FILE
    document = json.loads(plan.read_text())
    assert QuickCheck.load(settings, SITE) is not None
    for url in ("file:///etc/passwd", "http://127.0.0.2/x.html", "ftp://x/a.html", "http://x:81/"):
        planted = {**document, "pages": {**document["pages"], url: [None] * 6}}
        plan.write_text(json.dumps(planted))
        assert QuickCheck.load(settings, SITE) is None, url
    for pages in ({"http://x/a.html": [None] * 5}, {"http://x/a.html": [1, 2, 3, 4, 5, 6]}, []):
        plan.write_text(json.dumps({**document, "pages": pages}))
        assert QuickCheck.load(settings, SITE) is None, pages
    plan.write_text(json.dumps({**document, "problems": [{"not": "text"}]}))
    assert QuickCheck.load(settings, SITE) is None


def test_a_planted_off_site_url_is_never_requested(
    crawled_snapshot: Path, session_snapshot_server: SiteServer, tmp_path: Path
) -> None:
    data = copy_data_dir(crawled_snapshot, tmp_path)
    plan = data / "cache" / PLAN_FILE
    document = json.loads(plan.read_text())
    some_page = next(iter(document["pages"].values()))
    with SiteServer(SNAPSHOT_DIR, host="127.0.0.2") as off_site:
        for url in (f"{off_site.url}index.html", "file:///etc/passwd"):
            document["pages"][url] = some_page
        plan.write_text(json.dumps(document))
        result = crawl(session_snapshot_server.url, data)
        assert off_site.requests == []
    assert result.returncode == 0, result.stderr
    assert "already holds this data" in result.stdout  # crawled in full, found the same data
    rewritten = json.loads(plan.read_text())["pages"]  # and left a plan of its own
    assert not [url for url in rewritten if not url.startswith(session_snapshot_server.url)]

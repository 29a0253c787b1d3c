"""pywb, the Webrecorder archive server, replays a programme page from a version's captures as
the crawl received it (pywb from its own venv: tests/archive/pywb_server.py)."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import pytest

from exitscrape.dataset.store import DatasetStore
from tests.archive.pywb_server import Pywb
from tests.evidence.conftest import Crawled


@pytest.fixture(scope="module")
def pywb(crawled: Crawled, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``wayback`` serving a collection made of the version's captures.warc.gz (``wb-manager
    init``, ``wb-manager add``); the collection's URL."""
    with Pywb(tmp_path_factory.mktemp("pywb"), [crawled.captures]) as server:
        yield server.url


def test_pywb_replays_a_programme_page_as_captured(crawled: Crawled, pywb: str) -> None:
    pages = DatasetStore(crawled.data).read("pages").to_pylist()
    page = next(p for p in pages if p["kind"] == "programme" and p["url"] == p["final_url"])
    stamp = page["fetched_at"].strftime("%Y%m%d%H%M%S")
    with urllib.request.urlopen(f"{pywb}{stamp}id_/{page['url']}") as response:
        body = response.read()
        memento = response.headers["Memento-Datetime"]
    assert hashlib.sha256(body).hexdigest() == page["body_sha256"]
    assert parsedate_to_datetime(memento) == page["fetched_at"].replace(microsecond=0)


def test_pywb_knows_every_captured_programme_page(crawled: Crawled, pywb: str) -> None:
    with urllib.request.urlopen(f"{pywb}cdx?url={crawled.url}*&output=json") as response:
        rows = [json.loads(line) for line in response.read().decode().splitlines()]
    captured = {(row["url"], row["status"]) for row in rows}
    pages = DatasetStore(crawled.data).read("pages").to_pylist()
    programmes = {(p["final_url"], "200") for p in pages if p["kind"] == "programme"}
    assert programmes <= captured

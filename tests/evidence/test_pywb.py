"""pywb, the Webrecorder archive server, replays a programme page from a version's captures as
the crawl received it."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import pytest

from exitscrape.dataset.store import DatasetStore
from tests.evidence.conftest import Crawled, console_script

COLLECTION = "evidence"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def pywb(crawled: Crawled, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``wayback`` serving a collection made of the version's captures.warc.gz; its URL."""
    folder = tmp_path_factory.mktemp("pywb")
    for command in (["init", COLLECTION], ["add", COLLECTION, str(crawled.captures)]):
        result = subprocess.run(
            [console_script("wb-manager"), *command], cwd=folder, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    port = _free_port()
    server = subprocess.Popen(
        [console_script("wayback"), "-p", str(port), "-b", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:  # until it answers (a bounded wait for a condition, not a sleep)
            assert server.poll() is None, server.communicate()[1]
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "pywb never answered"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_pywb_replays_a_programme_page_as_captured(crawled: Crawled, pywb: str) -> None:
    pages = DatasetStore(crawled.data).read("pages").to_pylist()
    page = next(p for p in pages if p["kind"] == "programme" and p["url"] == p["final_url"])
    stamp = page["fetched_at"].strftime("%Y%m%d%H%M%S")
    with urllib.request.urlopen(f"{pywb}{COLLECTION}/{stamp}id_/{page['url']}") as response:
        body = response.read()
        memento = response.headers["Memento-Datetime"]
    assert hashlib.sha256(body).hexdigest() == page["body_sha256"]
    assert parsedate_to_datetime(memento) == page["fetched_at"].replace(microsecond=0)


def test_pywb_knows_every_captured_programme_page(crawled: Crawled, pywb: str) -> None:
    query = f"{pywb}{COLLECTION}/cdx?url={crawled.url}*&output=json"
    with urllib.request.urlopen(query) as response:
        rows = [json.loads(line) for line in response.read().decode().splitlines()]
    captured = {(row["url"], row["status"]) for row in rows}
    pages = DatasetStore(crawled.data).read("pages").to_pylist()
    programmes = {(p["final_url"], "200") for p in pages if p["kind"] == "programme"}
    assert programmes <= captured

"""A published version's captures: every exchange the crawl made, in a WARC that warcio reads
back record by record, whose bodies are the ones the pages table hashed."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import exitscrape
from exitscrape import __version__
from exitscrape.dataset.store import DatasetStore
from exitscrape.incremental.middleware import FEW_DIFFERENCES
from exitscrape.incremental.quickcheck import PLAN_FILE
from exitscrape.incremental.replay import RECORDS_FILE
from exitscrape.snapshot.server import SiteServer
from tests.conftest import HII, copy_site, crawl
from tests.evidence.conftest import GZIP_PAGE, SECRET, console_script, manifest, records


def test_warcio_checks_and_indexes_the_captures(crawled) -> None:
    check = subprocess.run(
        [console_script("warcio"), "check", "-v", str(crawled.captures)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "failed" not in check.stdout
    index = subprocess.run(
        [console_script("warcio"), "index", str(crawled.captures)], capture_output=True, text=True
    )
    assert index.returncode == 0, index.stderr
    lines = [json.loads(line) for line in index.stdout.splitlines()]
    assert len(lines) == len(list(records(crawled.captures)))
    assert lines[0]["warc-type"] == "warcinfo"


def test_one_gzip_member_per_record_and_listed_in_the_manifest(crawled) -> None:
    data = crawled.captures.read_bytes()
    members = 0
    while data:
        inflater = zlib.decompressobj(wbits=31)
        inflater.decompress(data)
        assert inflater.eof
        data = inflater.unused_data
        members += 1
    assert members == len(list(records(crawled.captures)))
    listed = manifest(crawled.folder)["files"]["captures.warc.gz"]
    assert listed["bytes"] == crawled.captures.stat().st_size
    assert listed["sha256"] == hashlib.sha256(crawled.captures.read_bytes()).hexdigest()


def test_warcinfo_names_the_software_start_url_and_settings(crawled) -> None:
    info = next(records(crawled.captures))
    assert info["type"] == "warcinfo" and info["version"] == "WARC/1.1"
    fields = dict(line.split(": ", 1) for line in info["raw"].decode().splitlines() if ": " in line)
    assert fields["software"] == f"exitscrape/{__version__}"
    assert fields["start-url"] == crawled.url
    assert fields["robots"] == "obey"
    settings = json.loads(fields["exitscrape-settings"])
    assert settings["ROBOTSTXT_OBEY"] is True
    assert settings["USER_AGENT"].startswith(f"exitscrape/{__version__}")
    assert fields["http-header-user-agent"] == settings["USER_AGENT"]


def test_every_exchange_is_recorded_with_its_request(crawled) -> None:
    found = list(records(crawled.captures))
    responses = {r["warc"]["WARC-Record-ID"]: r for r in found if r["type"] == "response"}
    requests = [r for r in found if r["type"] == "request"]
    assert len(requests) == len(responses) == (len(found) - 1) // 2
    exchanges = Counter()
    for request in requests:
        response = responses[request["warc"]["WARC-Concurrent-To"]]
        assert request["warc"]["WARC-Target-URI"] == response["warc"]["WARC-Target-URI"]
        path = "/" + response["warc"]["WARC-Target-URI"].split("/", 3)[3]
        exchanges[(request["http"].protocol, path, response["status"])] += 1
    # What the server answered, request for request, is what the captures hold.
    assert exchanges == Counter(crawled.requests)
    for expected in [
        ("GET", "/robots.txt", 200),
        ("HEAD", "/report.pdf", 405),
        ("GET", "/report.pdf", 200),
        ("GET", "/moved.html", 301),
        ("GET", "/renamed.html", 301),
        ("GET", "/away.html", 301),
        ("GET", "/gone.html", 404),
        ("GET", "/flaky.html", 500),
        ("GET", "/flaky.html", 200),
    ]:
        assert exchanges[expected] == 1, expected
    assert not any(path == "/private.html" for _, path, _ in exchanges)  # robots.txt forbids it


def test_credentials_the_crawl_sent_are_not_kept(crawled) -> None:
    """Captures are published (a release's WACZ): an Authorization header keeps its name only."""
    assert SECRET.encode() not in gzip.decompress(crawled.captures.read_bytes())
    request = next(r for r in records(crawled.captures) if r["type"] == "request")
    assert request["http"].get_header("Authorization") == "<redacted>"
    assert request["http"].get_header("X-Api-Key") == "<redacted>"


def test_record_headers(crawled) -> None:
    for record in records(crawled.captures):
        assert record["version"] == "WARC/1.1"
        if record["type"] != "response":
            continue
        warc = record["warc"]
        assert warc["WARC-Target-URI"].startswith(crawled.url)
        assert warc["WARC-Date"].endswith("Z") and "T" in warc["WARC-Date"]
        assert warc["WARC-IP-Address"] == "127.0.0.1"
        assert warc["WARC-Payload-Digest"] == f"sha256:{hashlib.sha256(record['raw']).hexdigest()}"


def test_every_page_with_a_status_has_its_response_and_body(crawled) -> None:
    pages = DatasetStore(crawled.data).read("pages").to_pylist()
    responses = {
        r["warc"]["WARC-Record-ID"]: r for r in records(crawled.captures) if r["type"] == "response"
    }
    with_status = [p for p in pages if p["status"] is not None]
    assert len(with_status) >= 40
    for page in with_status:
        response = responses[page["warc_record_id"]]
        assert response["warc"]["WARC-Target-URI"] in (page["url"], page["final_url"])
        assert response["status"] == page["status"]
        if isinstance(page["body_sha256"], str):
            assert hashlib.sha256(response["body"]).hexdigest() == page["body_sha256"]
            # The row's capture date is the record's.
            assert response["warc"]["WARC-Date"].startswith(
                page["fetched_at"].strftime("%Y-%m-%dT%H:%M:%S")
            )
    by_url = {p["url"]: p for p in pages}
    assert by_url[crawled.url + "moved.html"]["status"] == 301  # a redirect met again
    assert by_url[crawled.url + "private.html"]["warc_record_id"] is None  # never fetched


def test_a_compressed_page_is_kept_as_received_and_hostile_headers_stay_http_headers(
    crawled,
) -> None:
    (record,) = [
        r
        for r in records(crawled.captures)
        if r["type"] == "response" and r["warc"]["WARC-Target-URI"].endswith(GZIP_PAGE)
    ]
    assert record["raw"][:2] == b"\x1f\x8b"  # the bytes received, still gzip-compressed
    assert (crawled.site / GZIP_PAGE.lstrip("/")).read_bytes() == record["body"]
    http = dict(record["http"].headers)
    assert http["Content-Encoding"] == "gzip"
    assert http["Warc-Record-Id"] == "<urn:uuid:forged>"  # an HTTP header, nothing more
    assert record["warc"]["WARC-Record-ID"] != "<urn:uuid:forged>"
    assert http["Warc-Type"] == "response" and http["X-Split"] == "a"
    assert http["X-Latin"] == "caf%C3%A9%20%00"  # warcio percent-encodes what is not ASCII
    programmes = exitscrape.load(data_dir=crawled.data)
    assert any(url.endswith(GZIP_PAGE) for urls in programmes["source_urls"] for url in urls)


def test_pages_the_cache_answered_are_captured_with_the_body_they_stand_for(
    tmp_path: Path,
) -> None:
    """A rerun that cannot replay (the last crawl's records are gone) on a site changed in a
    few places (the check stops there), a programme among them: pages the check confirmed come
    from the HTTP cache, pages it did not reach are answered 304 and the cached page used. Each
    is in the captures with the body the crawl read, saying where it came from."""
    site, data = copy_site(tmp_path), tmp_path / "data"
    with SiteServer(site) as server:
        assert crawl(server.url, data).returncode == 0
        planned = list(json.loads((data / "cache" / PLAN_FILE).read_text())["pages"])
        html = [url for url in planned if url.endswith(".html")]
        middle = len(html) // 2
        for url in html[middle : middle + FEW_DIFFERENCES + 1]:
            page = site / url.rsplit("/", 1)[1]
            page.write_text(page.read_text() + "<!-- edited -->")
        programme = site / HII
        programme.write_text(
            programme.read_text().replace("Her Majesty&rsquo;s", "His Majesty&rsquo;s")
        )
        (data / "cache" / RECORDS_FILE).unlink()
        rerun = crawl(server.url, data)
    assert rerun.returncode == 0 and "published version" in rerun.stdout, rerun.stdout
    assert "records were not used" in rerun.stdout
    store = DatasetStore(data)
    version = store.latest()
    pages = {p["warc_record_id"]: p for p in store.read("pages").to_pylist()}
    served = Counter()
    for record in records(data / str(version) / "captures.warc.gz"):
        note = record["warc"].get("Exitscrape-Served-From")
        if record["type"] != "response" or not note:
            continue
        served[note] += 1
        assert record["status"] == 200 and "WARC-IP-Address" not in record["warc"]
        assert record["warc"]["Exitscrape-Cached-At"] < record["warc"]["WARC-Date"]
        page = pages.get(record["warc"]["WARC-Record-ID"])
        if page and page["body_sha256"]:
            assert hashlib.sha256(record["body"]).hexdigest() == page["body_sha256"]
    assert served["cache: the quick check found the page unchanged earlier in this run"] > 0
    assert served["cache: the site answered 304 Not Modified"] > 0


def test_pages_replayed_keep_their_records_byte_for_byte(snapshot_versions) -> None:
    """The second snapshot version was crawled after a quick check found a change: the pages it
    confirmed were replayed, and their captures copied from the first version's, unaltered."""
    store = DatasetStore(snapshot_versions)
    first, second = store.versions()
    before = {
        r["warc"]["WARC-Record-ID"]: r
        for r in records(snapshot_versions / first / "captures.warc.gz")
        if r["type"] == "response"
    }
    copied = [
        r
        for r in records(snapshot_versions / second / "captures.warc.gz")
        if r["type"] == "response" and r["warc"]["WARC-Record-ID"] in before
    ]
    assert len(copied) > 20
    for record in copied:
        assert record == before[record["warc"]["WARC-Record-ID"]]
    replayed = {p["warc_record_id"] for p in store.read("pages", second).to_pylist()}
    assert {r["warc"]["WARC-Record-ID"] for r in copied} <= replayed

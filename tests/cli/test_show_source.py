"""``exitscrape show NAME --source``: where each value came from, down to the captured record."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from exitscrape.dataset.store import DatasetStore
from tests.conftest import run_cli


def test_source_names_each_page_its_capture_date_and_record(snapshot_versions) -> None:
    store = DatasetStore(snapshot_versions)
    version = store.latest()
    pages = {p["final_url"]: p for p in store.read("pages").to_pylist() if p["final_url"]}
    result = run_cli("show", "mentoring", "--source", "--data-dir", str(snapshot_versions))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "source (where the values come from):" in text
    programme = next(
        p for p in store.read("programmes").to_pylist() if p["name"].startswith("Mentoring")
    )
    assert len(programme["source_urls"]) == 2  # a programme the site publishes twice
    for url in programme["source_urls"]:
        page = pages[url]
        assert url in text and page["warc_record_id"] in text
        assert f"captured {page['fetched_at']:%Y-%m-%d %H:%M:%S.%f} UTC" in text
    # The command it prints extracts that very page from the captures.
    command = next(line.strip() for line in text.splitlines() if "warcio extract" in line)
    _, _, _, path, offset = command.split()
    warcio = str(Path(sys.executable).with_name("warcio"))
    extracted = subprocess.run([warcio, "extract", "--payload", path, offset], capture_output=True)
    first = pages[programme["source_urls"][0]]
    assert hashlib.sha256(extracted.stdout).hexdigest() == first["body_sha256"]
    assert path == str(snapshot_versions / str(version) / "captures.warc.gz")


def test_source_as_json(snapshot_versions) -> None:
    result = run_cli(
        "show", "mentoring", "--source", "--json", "--data-dir", str(snapshot_versions)
    )
    assert result.returncode == 0, result.stderr
    evidence = json.loads(result.stdout)["evidence"]
    assert {e["url"] for e in evidence} == set(json.loads(result.stdout)["source_urls"])
    for entry in evidence:
        assert entry["warc_record_id"].startswith("<urn:uuid:") and entry["offset"] > 0
        assert entry["reached_from"]["url"]

"""A release's evidence: the version's captures packaged as a WACZ (Web Archive Collection
Zipped) by the ``wacz`` package, with a pages list of the programme and category pages, which
ReplayWeb.page opens in a browser and pywb serves (``wb-manager add --unpack-wacz``)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from exitscrape.dataset.store import DatasetError
from exitscrape.evidence.writer import warc_date

WACZ_FILE = "captures.wacz"
_PAGE_KINDS = ("programme", "listing")
#: ``wacz create`` with its clock set to the release's creation time: wacz stamps its zip entries
#: and its datapackage with the time it runs, and has no option for another; at a fixed time the
#: same release builds the same WACZ, byte for byte (the registry rebuilds releases).
_WACZ_AT = """
import datetime, sys, types
import wacz.main, wacz.util, wacz.waczindexer
at = datetime.datetime.fromisoformat(sys.argv[1])
class Clock(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return at.astimezone(tz) if tz else at.replace(tzinfo=None)
wacz.util.now = wacz.main.now = wacz.waczindexer.now = lambda: at.timetuple()[:6]
wacz.waczindexer.datetime = types.SimpleNamespace(datetime=Clock, UTC=datetime.UTC)
sys.exit(wacz.main.main(sys.argv[2:]))
"""


def page_list(pages: pa.Table, programmes: pa.Table) -> list[dict[str, Any]]:
    """The WACZ's pages (``pages/pages.jsonl``): every programme and category page fetched with
    its capture date, programme pages titled with the programme's name (ids derived from date
    and URL: the same list every time)."""
    names = {
        url: row["name"]
        for row in programmes.select(["name", "source_urls"]).to_pylist()
        for url in row["source_urls"]
    }
    listed = [{"format": "json-pages-1.0", "id": "pages", "title": "Programme and category pages"}]
    for row in pages.select(["final_url", "status", "kind", "fetched_at"]).to_pylist():
        if row["kind"] not in _PAGE_KINDS or row["status"] != 200 or not row["final_url"]:
            continue
        fetched: datetime = row["fetched_at"]
        title = names.get(row["final_url"]) or f"Category page {row['final_url']}"
        ts = warc_date(fetched)
        page_id = hashlib.sha256(f"{ts} {row['final_url']}".encode()).hexdigest()[:22]
        listed.append({"id": page_id, "url": row["final_url"], "ts": ts, "title": title})
    return listed


def write_wacz(captures: Path, pages: list[dict[str, Any]], target: Path, at: datetime) -> None:
    """``wacz create`` of *captures* with the page list *pages*, written to *target*, as of *at*
    (a UTC time: the release's)."""
    with tempfile.TemporaryDirectory(prefix="exitscrape-wacz-") as scratch:
        listing = Path(scratch) / "pages.jsonl"
        listing.write_text("".join(json.dumps(page) + "\n" for page in pages), encoding="utf-8")
        # Absolute paths: wacz runs in the scratch dir, and the data dir may be given relative.
        command = ["create", "-o", str(target.resolve()), "-p", str(listing)]
        command.append(str(captures.resolve()))
        result = subprocess.run(
            [sys.executable, "-c", _WACZ_AT, at.astimezone(UTC).isoformat(), *command],
            capture_output=True,
            text=True,
            cwd=scratch,
        )
    if result.returncode != 0 or not target.is_file():
        output = (result.stdout + result.stderr).strip().splitlines()[-5:]
        raise DatasetError(f"wacz create failed: {' / '.join(output) or 'no output'}")

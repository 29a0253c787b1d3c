"""Replay (exitscrape/incremental/replay.py): a rerun after a change crawls what changed and
replays the pages the quick check confirmed, and its dataset equals a full crawl's."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd

import exitscrape
from exitscrape.dataset.store import DatasetStore
from exitscrape.incremental.quickcheck import PLAN_FILE
from exitscrape.incremental.replay import RECORDS_FILE
from exitscrape.snapshot.server import SiteServer
from tests.conftest import HII, copy_site, crawl, report, run_cli

#: Columns that differ between two crawls of the same site: when, which capture, and which page
#: a URL was first reached from (the order responses come in).
VOLATILE = {"programmes": ["crawled_at"], "pages": ["fetched_at", "warc_record_id", "referer"]}
NEW_PAGE = "novel-identity-intervention.html"


def table(data: Path, name: str) -> pd.DataFrame:
    frame = exitscrape.load(name, data_dir=data).drop(columns=VOLATILE[name])
    key = "programme_id" if name == "programmes" else "url"
    return frame.sort_values(key).reset_index(drop=True)


def assert_same_data(data: Path, full: Path) -> None:
    for name in VOLATILE:
        pd.testing.assert_frame_equal(table(data, name), table(full, name))


def change_the_site(site: Path) -> None:
    """One programme edited, one added (linked from a category page), one link removed."""
    page = site / HII
    page.write_text(page.read_text().replace("Her Majesty&rsquo;s", "His Majesty&rsquo;s"))
    (site / NEW_PAGE).write_text(
        page.read_text().replace("Healthy Identity Intervention", "Novel Identity Intervention")
    )
    category = site / "far-right.html"
    text = category.read_text()
    removed = '<a href="/mentoring-programme.html">Mentoring Programme</a> &ndash; Norway<br />'
    assert removed in text
    category.write_text(
        text.replace(removed, f'<a href="/{NEW_PAGE}">Novel Identity Intervention</a><br />')
    )


def test_a_rerun_after_changes_replays_the_rest_and_equals_a_full_crawl(tmp_path: Path) -> None:
    site, data, full = copy_site(tmp_path), tmp_path / "data", tmp_path / "full"
    with SiteServer(site) as server:
        assert crawl(server.url, data).returncode == 0
        change_the_site(site)
        server.requests.clear()
        rerun = crawl(server.url, data)
        requests = list(server.requests)
        assert crawl(server.url, full, "--full").returncode == 0
        again = crawl(server.url, data)

    assert rerun.returncode == 0, rerun.stderr
    assert "published version" in rerun.stdout
    quick_check = report(data, -2)["quick_check"]
    assert quick_check["replayed"] >= 25, quick_check
    assert f"{quick_check['replayed']} pages found unchanged replayed" in rerun.stdout
    # What changed or is new was downloaded; nothing else (the check's 304s aside).
    downloaded = {path for _, path, status in requests if status == 200} - {"/robots.txt"}
    assert downloaded == {f"/{HII}", "/far-right.html", f"/{NEW_PAGE}"}
    assert_same_data(data, full)
    assert "Novel Identity Intervention (HII)" in set(exitscrape.load(data_dir=data)["name"])
    # The new version holds its evidence: every page's capture, checked and replayable.
    verify = run_cli("verify", "--data-dir", str(data))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    rebuild = run_cli("rebuild", "--data-dir", str(data), str(DatasetStore(data).latest()))
    assert rebuild.returncode == 0 and "equal to version" in rebuild.stdout, rebuild.stdout
    # The replaying crawl left a plan and records for the next run: unchanged, a quick check.
    assert again.returncode == 0 and "nothing parsed" in again.stdout


def _tamper_text(data: Path) -> str:
    """Change a programme's text in the records, leaving the plan as it was."""
    path = data / "cache" / RECORDS_FILE
    document = json.loads(path.read_text())
    for record in document["pages"].values():
        if record["programme"]:
            record["programme"][-3] = "Planted text."  # the description
            break
    path.write_text(json.dumps(document))
    return "the one the plan was written with"


def _tamper_consistently(data: Path) -> str:
    """Change a programme's text in the records and the plan's hash of them to match."""
    _tamper_text(data)
    plan = data / "cache" / PLAN_FILE
    document = json.loads(plan.read_text())
    records = (data / "cache" / RECORDS_FILE).read_bytes()
    document["records_sha256"] = hashlib.sha256(records).hexdigest()
    plan.write_text(json.dumps(document))
    return "disagrees with version"


def _tamper_span(data: Path) -> str:
    """Point a page's capture at another record, consistently."""
    path = data / "cache" / RECORDS_FILE
    document = json.loads(path.read_text())
    records = list(document["pages"].values())
    records[0]["span"], records[1]["span"] = records[1]["span"], records[0]["span"]
    path.write_text(json.dumps(document))
    plan = data / "cache" / PLAN_FILE
    planned = json.loads(plan.read_text())
    planned["records_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    plan.write_text(json.dumps(planned))
    return "does not hold"


def test_records_planted_in_the_cache_are_never_published(tmp_path: Path) -> None:
    """Records that do not agree with the latest version are not replayed: the pages are
    crawled, and the dataset is what the site says."""
    site, base = copy_site(tmp_path), tmp_path / "base"
    with SiteServer(site) as server:
        assert crawl(server.url, base).returncode == 0
        change_the_site(site)
        for tamper in (_tamper_text, _tamper_consistently, _tamper_span):
            data = Path(shutil.copytree(base, tmp_path / tamper.__name__, symlinks=True))
            why = tamper(data)
            rerun = crawl(server.url, data)
            assert rerun.returncode == 0, rerun.stderr
            assert "the last crawl's records were not used" in rerun.stdout, tamper
            assert why in rerun.stdout, (tamper, rerun.stdout)
            assert report(data)["quick_check"]["replayed"] == 0
            descriptions = exitscrape.load(data_dir=data)["description"]
            assert not descriptions.str.contains("Planted").any(), tamper
            assert run_cli("verify", "--data-dir", str(data)).returncode == 0


def test_links_planted_in_the_records_never_leave_the_site(tmp_path: Path) -> None:
    """A page's links cannot be checked against the version: links planted in the records (and
    the plan made to match) are held to the site's scope like any other request."""
    site, data = copy_site(tmp_path), tmp_path / "data"
    offsite = SiteServer(copy_site(tmp_path / "off"), host="127.0.0.2")
    with SiteServer(site) as server, offsite:
        assert crawl(server.url, data).returncode == 0
        path = data / "cache" / RECORDS_FILE
        document = json.loads(path.read_text())
        planted = [f"{offsite.url}index.html", "file:///etc/passwd"]
        for record in document["pages"].values():
            record["page"][7] += planted  # the links
        path.write_text(json.dumps(document))
        plan = data / "cache" / PLAN_FILE
        planned = json.loads(plan.read_text())
        planned["records_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        plan.write_text(json.dumps(planned))
        change_the_site(site)
        rerun = crawl(server.url, data)
    assert rerun.returncode == 0, rerun.stderr
    assert report(data)["quick_check"]["replayed"] > 0  # the planted records were used...
    assert offsite.requests == []  # ...and nothing went off the site
    urls = set(exitscrape.load("pages", data_dir=data)["url"])
    assert not {url for url in urls if not url.startswith(server.url)} - set(planted)


def test_records_carry_over_a_rerun_that_found_the_same_data(tmp_path: Path) -> None:
    """A rerun whose pages changed without changing the data publishes nothing; the pages it
    replayed stay replayable from the latest version's captures for the run after."""
    site, data, full = copy_site(tmp_path), tmp_path / "data", tmp_path / "full"
    with SiteServer(site) as server:
        assert crawl(server.url, data).returncode == 0
        page = site / "exit-ndash-germany.html"
        page.write_text(page.read_text() + "<!-- page rebuilt by the site -->")
        same = crawl(server.url, data)
        assert same.returncode == 0 and "already holds this data" in same.stdout, same.stdout
        replayed_before = report(data)["quick_check"]["replayed"]
        records = json.loads((data / "cache" / RECORDS_FILE).read_text())["pages"]
        assert len(records) == replayed_before > 0
        change_the_site(site)
        changed = crawl(server.url, data)
        assert crawl(server.url, full, "--full").returncode == 0
    assert changed.returncode == 0 and "published version" in changed.stdout, changed.stderr
    assert report(data)["quick_check"]["replayed"] > 0
    assert_same_data(data, full)
    assert run_cli("verify", "--data-dir", str(data)).returncode == 0


def test_a_crawl_without_the_http_cache_leaves_what_the_next_rerun_needs(
    session_snapshot_server: SiteServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = crawl(session_snapshot_server.url, data, "-s", "HTTPCACHE_ENABLED=False")
    assert first.returncode == 0, first.stderr
    assert "Cannot write" not in first.stderr  # the records too: no cache dir yet, made
    assert (data / "cache" / "quick-check-records.json").is_file()
    rerun = crawl(session_snapshot_server.url, data)
    assert rerun.returncode == 0, rerun.stderr
    assert "nothing parsed, nothing published" in rerun.stdout

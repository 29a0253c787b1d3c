"""Incremental re-crawls over real HTTP: 304s for unchanged pages, one new version per change,
and a site answering 503 never replaced by stale cached copies."""

from __future__ import annotations

from pathlib import Path

import exitscrape
from exitscrape.dataset.store import DatasetStore
from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteServer
from tests.conftest import EXPECTED, HII, FaultServer, copy_site, crawl, report, run_cli

PROGRAMME_PATHS = [path for programme in EXPECTED for path in programme["paths"]]
OLD_ORGANISATION = "Her Majesty’s Prison and Probation Service (HMPPS)"
NEW_ORGANISATION = "HM Prison and Probation Service (HMPPS)"


def test_rerun_revalidates_and_a_changed_page_gives_one_version(tmp_path: Path) -> None:
    site, data = copy_site(tmp_path), tmp_path / "data"
    store = DatasetStore(data)
    with SiteServer(site) as server:
        first = crawl(server.url, data)
        assert first.returncode == 0, first.stderr
        (v1,) = store.versions()
        assert (data / "cache").is_dir()

        server.requests.clear()
        second = crawl(server.url, data)
        assert second.returncode == 0, second.stderr
        assert "unchanged" in second.stdout
        assert store.versions() == [v1]
        statuses = [status for _, path, status in server.requests if path != "/robots.txt"]
        assert len(statuses) >= len(PROGRAMME_PATHS)
        assert statuses.count(304) == len(statuses)  # every page revalidated, none downloaded
        second_report = report(data)
        assert second_report["outcome"] == "unchanged"
        assert second_report["version"] is None and second_report["latest"] == v1
        assert second_report["pages"]["revalidated"] == len(server.requests)
        assert second_report["pages"]["downloaded"] == 0

        page = site / HII
        old = "Her Majesty&rsquo;s Prison and Probation Service"
        page.write_text(page.read_text().replace(old, "HM Prison and Probation Service"))
        server.requests.clear()
        third = crawl(server.url, data)
        assert third.returncode == 0, third.stderr
        v1_again, v2 = store.versions()
        assert v1_again == v1 and store.latest() == v2
        downloaded = {path for _, path, status in server.requests if status == 200}
        assert downloaded == {f"/{HII}"}

    old = exitscrape.load(version=v1, data_dir=data).set_index("programme_id")
    new = exitscrape.load(data_dir=data).set_index("programme_id")
    programme_id = "healthy-identity-intervention-hii-gb"
    assert old.loc[programme_id, "organisation"] == OLD_ORGANISATION
    assert new.loc[programme_id, "organisation"] == NEW_ORGANISATION
    assert len(old) == len(new) == len(EXPECTED)

    diff = run_cli("diff", v1, v2, "--data-dir", str(data))
    assert diff.returncode == 0, diff.stderr
    changed = [line for line in diff.stdout.splitlines() if line.startswith("~ changed")]
    assert changed == [
        f"~ changed  {programme_id}  (Healthy Identity Intervention (HII)): organisation"
    ]


def test_programme_pages_answering_503_publish_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = DatasetStore(data)
    with FaultServer(SNAPSHOT_DIR) as server:
        assert crawl(server.url, data).returncode == 0
        (v1,) = store.versions()
        before = exitscrape.load(data_dir=data)
        for path in PROGRAMME_PATHS:
            server.statuses[path] = [503] * 10  # more than the retries
        result = crawl(server.url, data)

    assert result.returncode == 1
    assert "nothing published" in result.stderr
    # Each failed page is named once, by the summary, not again by Scrapy's ERROR lines.
    assert "Gave up retrying" not in result.stderr and " ERROR: " not in result.stderr
    assert result.stderr.count(": HTTP 503") == len(PROGRAMME_PATHS)
    assert store.versions() == [v1] and store.latest() == v1
    after = exitscrape.load(data_dir=data)
    assert after.equals(before) and len(after) == len(EXPECTED)
    failed = report(data)
    assert failed["outcome"] == "failed" and failed["version"] is None
    assert failed["pages"]["failed_by_reason"] == {"HTTP 503": len(PROGRAMME_PATHS)}
    gates = {gate["gate"]: gate for gate in failed["gates"]}
    assert not gates["programme_count"]["passed"]
    assert gates["programme_count"]["figures"]["programmes"] == 0

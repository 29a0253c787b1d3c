"""Run reports and ``exitscrape runs``."""

from __future__ import annotations

import json
from pathlib import Path

from scrapy.settings import Settings

from exitscrape.extensions import runreport
from tests.conftest import run_cli


def write(data: Path, run_id: str, outcome: str, **fields: object) -> None:
    report = {
        "run_id": run_id,
        "started_at": "2026-01-02T03:17:00+00:00",
        "duration_seconds": 42.4,
        "outcome": outcome,
        "version": None,
        "latest": "20260101T031700Z",
        "pages": {"met": 40, "revalidated": 38, "failed": 1},
        "programmes": 7,
        **fields,
    }
    runreport.write(data, report)


def test_runs_lists_newest_first_with_reasons(tmp_path: Path) -> None:
    write(tmp_path, "20260101T031700Z-1", "published", version="20260101T031700Z")
    write(tmp_path, "20260102T031700Z-2", "unchanged")
    write(tmp_path, "20260103T031700Z-3", "gate_failed", reason="quality gate x failed: 3 < 6")
    write(tmp_path, "20260104T031700Z-4", "published", version="20260104T031800Z", forced=["x"])
    (tmp_path / "runs" / "20260105T000000Z-5.json").write_text("{torn")  # skipped, not fatal

    result = run_cli("runs", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    header, *rows, reason = result.stdout.splitlines()
    assert header.split()[:5] == ["run", "started", "(UTC)", "secs", "outcome"]
    assert [row.split()[0] for row in rows] == [
        "20260104T031700Z-4",
        "20260103T031700Z-3",
        "20260102T031700Z-2",
        "20260101T031700Z-1",
    ]
    assert "published (forced)" in rows[0] and "20260104T031800Z" in rows[0]
    assert "= 20260101T031700Z" in rows[2]  # unchanged: names the version it equals
    assert rows[1].split()[-4:] == ["40", "38", "1", "7"]
    assert reason == "20260103T031700Z-3: quality gate x failed: 3 < 6"

    limited = run_cli("runs", "--data-dir", str(tmp_path), "-n", "1", "--json")
    assert [r["run_id"] for r in json.loads(limited.stdout)] == ["20260104T031700Z-4"]

    (tmp_path / "empty").mkdir()
    empty = run_cli("runs", "--data-dir", str(tmp_path / "empty"))
    assert empty.returncode == 0 and "no runs recorded" in empty.stdout


def test_settings_report_differences_and_overrides() -> None:
    settings = Settings()
    settings.set("DOWNLOAD_DELAY", 1.0, priority="project")
    settings.set("EXITSCRAPE_DATA_DIR", "/data", priority="cmdline")
    report = runreport.non_default_settings(settings)
    assert (
        report.changed["DOWNLOAD_DELAY"] == 1.0 and report.changed["EXITSCRAPE_DATA_DIR"] == "/data"
    )
    assert "RETRY_TIMES" not in report.changed  # Scrapy's default
    assert report.overridden == ["EXITSCRAPE_DATA_DIR"]

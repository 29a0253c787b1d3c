"""``benchmarks/run.py --quick`` runs end to end and writes its results (speed is not asserted:
the figures come from the full run, see BENCHMARKS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_quick_benchmark_runs_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())
    (crawl,) = results["crawl"]
    assert crawl["programme_pages"] == 30
    assert {run["kind"] for run in crawl["runs"]} == {"floor", "exitscrape"}
    assert all(run["wall_s"] > 0 and run["peak_rss_mib"] > 10 for run in crawl["runs"])
    (incremental,) = results["incremental"]
    assert incremental["rerun_share_304"] > 0.8  # the rerun revalidated instead of downloading
    assert results["extraction"]["pages"], "no page was timed"
    assert results["dataset"][0]["programmes"] == 27  # 30 pages, every tenth a copy
    assert set(results["targets"]) == {
        "crawl_ratio_2000",
        "extraction_ratio",
        "memory_ratio_10000_1000",
        "incremental_ratio_1000",
    }
    assert "| target | limit | measured | result |" in done.stdout
    assert not (tmp_path / "scaling.png").exists()

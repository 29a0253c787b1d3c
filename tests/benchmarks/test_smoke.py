"""``benchmarks/run.py --quick`` runs end to end and writes its results, served by nginx (when
installed: ``benchmarks/setup.sh``) and by the Python fallback server (speed is not asserted: the
figures come from the full run, see BENCHMARKS.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

HAS_NGINX = bool(shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin"))


def _quick(tmp_path: Path, *options: str) -> tuple[dict[str, Any], str]:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--quick",
            "--out",
            str(out),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text()), done.stdout


@pytest.mark.skipif(not HAS_NGINX, reason="nginx is not installed (benchmarks/setup.sh)")
def test_quick_benchmark_with_nginx_runs_and_writes_results(tmp_path: Path) -> None:
    results, stdout = _quick(tmp_path)
    assert results["machine"]["server"] == "nginx" and results["machine"]["nginx"]
    (crawl,) = results["crawl"]
    assert crawl["programme_pages"] == 30 and crawl["shape"] == "standard"
    assert {run["kind"] for run in crawl["runs"]} == {"floor", "exitscrape"}
    assert all(run["wall_s"] > 0 and run["peak_rss_mib"] > 10 for run in crawl["runs"])
    assert all(run["cpu_s"] > 0 for run in crawl["runs"])
    (incremental,) = results["incremental"]
    assert incremental["rerun_share_304"] > 0.8  # nginx answered the rerun's requests with 304
    assert incremental["one_change_wall_s"] > 0
    assert results["extraction"]["pages"], "no page was timed"
    assert results["dataset"][0]["programmes"] == 27  # 30 pages, every tenth a copy
    flood = results["link_flood"]
    assert flood["links"] == 2000 and not flood["exitscrape"]["timed_out"]
    assert set(results["targets"]) == {
        "crawl_ratio_2000",
        "crawl_ratio_10000",
        "extraction_ratio",
        "memory_ratio_10000_1000",
        "incremental_ratio_1000",
        "one_change_ratio_1000",
        "link_flood_peak_rss_mib",
    }
    assert "| target | limit | measured | result |" in stdout
    assert not (tmp_path / "scaling.png").exists()


def test_quick_benchmark_with_the_python_server(tmp_path: Path) -> None:
    results, _ = _quick(
        tmp_path,
        "--server",
        "python",
        "--shapes",
        "large-categories",
        "--skip",
        "extraction,dataset,link-flood",
    )
    assert results["machine"]["server"] == "python"
    (crawl,) = results["crawl"]
    assert crawl["shape"] == "large-categories"
    assert {run["kind"] for run in crawl["runs"]} == {"floor", "exitscrape"}
    (incremental,) = results["incremental"]
    assert incremental["rerun_share_304"] > 0.8

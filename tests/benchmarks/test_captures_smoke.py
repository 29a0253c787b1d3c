"""``benchmarks/captures.py`` runs end to end on a small site: both kinds of crawl succeed and
the one with captures writes them (speed is not asserted: the figures come from full runs, see
BENCHMARKS.md, "Captures")."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_captures_benchmark_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "captures.py"), "--pages", "20", "--pairs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"pair 1: with captures [\d.]+ s .* captures [\d.]+ MiB", done.stdout)
    assert re.search(r"wall time [\d.]+ \(min", done.stdout)
    assert re.search(r"the writer process: peak RSS \d+ MiB", done.stdout)

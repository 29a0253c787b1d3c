"""What writing the captures (captures.warc.gz) costs a crawl: wall time and peak memory.

    python benchmarks/captures.py                  # 2,000 programme pages, 5 pairs of crawls
    python benchmarks/captures.py --pages 200 --pairs 2

A site is generated (benchmarks/sitegen.py) and served on 127.0.0.1 from this process; crawls
run as subprocesses, alternating ``exitscrape crawl`` as configured (captures written) and the
same crawl with the capture middleware left out of DOWNLOADER_MIDDLEWARES, with the settings of
the acceptance check (delays, AutoThrottle and the HTTP cache off, 16 requests at a time). Each
crawl's wall time and peak RSS are its own (measured by a small wrapper process). The ratio is
the median of the per-pair ratios. See BENCHMARKS.md, "Captures".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sitegen  # noqa: E402  (beside this script, not a package)

from exitscrape import settings  # noqa: E402
from exitscrape.evidence.writer import CaptureProcess, Exchange, warcinfo  # noqa: E402
from exitscrape.snapshot.server import SiteServer  # noqa: E402

CAPTURE = "exitscrape.evidence.capture.CaptureMiddleware"
SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "HTTPCACHE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "16",
    "LOG_LEVEL": "WARNING",
}
# Peak RSS from a small parent: a child's ru_maxrss starts at its parent's RSS at exec.
_WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"\\nmeasured {wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def crawl(url: str, data: Path, captures: bool) -> tuple[float, float, float]:
    """One crawl: wall seconds, CPU seconds and peak RSS in MiB."""
    overrides = dict(SETTINGS)
    if not captures:
        middlewares = {k: v for k, v in settings.DOWNLOADER_MIDDLEWARES.items() if k != CAPTURE}
        overrides["DOWNLOADER_MIDDLEWARES"] = json.dumps(middlewares)
    command = [sys.executable, "-m", "exitscrape", "crawl", "--start-url", url]
    command += ["--data-dir", str(data), "-q"]
    command += [arg for name, value in overrides.items() for arg in ("-s", f"{name}={value}")]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCRAPY_", "EXITSCRAPE_"))}
    result = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"crawl failed:\n{result.stderr[-2000:]}")
    _, wall, cpu, peak = result.stderr.strip().splitlines()[-1].split()
    return float(wall), float(cpu), int(peak) / 1024


def writer_peak(site: Path, exchanges: int) -> tuple[float, float]:
    """Peak RSS of the captures' writer process (MiB) given *exchanges* pages of *site*, and the
    seconds this process spent handing them over (what a crawl's event loop spends)."""
    pages = sorted(site.glob("*.html"))[:exchanges]
    with tempfile.TemporaryFile() as file:
        process = CaptureProcess(file, warcinfo("benchmark", "http://127.0.0.1/", {}))
        pid = process._process.pid  # the benchmark looks inside; exitscrape never does
        started = time.thread_time()
        for page in pages:
            body = page.read_bytes()
            headers = [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]
            now = datetime.now(UTC)
            process.write(
                Exchange(f"http://127.0.0.1/{page.name}", "GET", [], 200, headers, body, now)
            )
        handing = time.thread_time() - started
        status = Path(f"/proc/{pid}/status").read_text()
        process.close()
    peak = next(line for line in status.splitlines() if line.startswith("VmHWM"))
    return int(peak.split()[1]) / 1024, handing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="programme pages (default 2000)")
    parser.add_argument("--pairs", type=int, default=5, help="pairs of crawls (default 5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exitscrape-bench-") as work:
        root = Path(work)
        site = sitegen.generate(root / "site", args.pages)
        rows = []
        with SiteServer(root / "site") as server:
            for pair in range(args.pairs):
                runs = {}
                for captures in (pair % 2 == 0, pair % 2 != 0):  # alternate which goes first
                    data = root / f"data-{pair}-{captures}"
                    runs[captures] = crawl(server.url, data, captures)
                    if captures:
                        (warc,) = data.glob("*/captures.warc.gz")
                        size = warc.stat().st_size / 2**20
                rows.append((runs[True], runs[False]))
                (on_wall, on_cpu, on_rss), (off_wall, off_cpu, off_rss) = runs[True], runs[False]
                print(
                    f"pair {pair + 1}: with captures {on_wall:.2f} s ({on_cpu:.2f} s CPU), "
                    f"{on_rss:.0f} MiB; without {off_wall:.2f} s ({off_cpu:.2f} s CPU), "
                    f"{off_rss:.0f} MiB; captures {size:.1f} MiB",
                    flush=True,
                )
        writer_rss, handing = writer_peak(root / "site", site.html_pages)
    wall = [on[0] / off[0] for on, off in rows]
    cpu = [on[1] / off[1] for on, off in rows]
    memory = [on[2] - off[2] for on, off in rows]
    print(
        f"\n{site.html_pages} pages, {site.files} files; with captures / without, median of "
        f"{len(rows)} pairs: wall time {statistics.median(wall):.3f} (min {min(wall):.3f}, "
        f"max {max(wall):.3f}), CPU time {statistics.median(cpu):.3f} (min {min(cpu):.3f}, "
        f"max {max(cpu):.3f}); peak RSS {statistics.median(memory):+.1f} MiB"
    )
    print(
        f"the writer process: peak RSS {writer_rss:.0f} MiB; handing it {site.html_pages} pages "
        f"took this process {handing:.2f} s of CPU ({handing / site.html_pages * 1000:.3f} ms "
        "a page)"
    )


if __name__ == "__main__":
    main()

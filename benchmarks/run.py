"""Benchmarks of exitscrape: crawl speed against plain Scrapy, memory, extraction, rerun, load.

    python benchmarks/run.py                      # the full run (sizes 100 to 10,000; long)
    python benchmarks/run.py --sizes 100,1000 --repeats 3
    python benchmarks/run.py --quick              # a tiny site, one run each: a smoke test
    python benchmarks/run.py --server python      # the project's Python server instead of nginx

Each size and shape gets a synthetic site in the real markup (benchmarks/sitegen.py) served on
127.0.0.1 by nginx (benchmarks/servers.py; ``benchmarks/setup.sh`` installs it). Crawls run as
subprocesses, alternating the plain Scrapy floor (benchmarks/floor_spider.py) and ``exitscrape
crawl``, with the same settings; wall time, CPU time and peak RSS are the child's own, and the
load average is recorded with each. Results go to a JSON file and, with matplotlib installed, a
scaling plot; a summary table is printed. See BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import servers  # noqa: E402  (beside this script, not a package)
import sitegen  # noqa: E402

from exitscrape.snapshot.server import SNAPSHOT_DIR  # noqa: E402

#: The settings of the acceptance check (issue 14): delays, AutoThrottle and the HTTP cache off,
#: 16 requests at once, 16 per domain, for both sides; exitscrape's page budget and depth limit
#: off too (they fit the live site, not 10,000 generated pages).
CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "HTTPCACHE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "WARNING",
    "CLOSESPIDER_PAGECOUNT": "0",
    "DEPTH_LIMIT": "0",
}
#: How exitscrape says it stopped a crawl at its cap on links per page.
CAP_MESSAGE = "cap on links per page (EXITSCRAPE_MAX_LINKS_PER_PAGE"
#: The incremental rerun: exitscrape's own HTTP cache (on by default; every page revalidated with
#: If-None-Match / If-Modified-Since, an unchanged page answered 304).
CACHE_SETTINGS = {"HTTPCACHE_ENABLED": "True"}
#: Targets of issue 14 (crawl ratios: the worst shape measured; served by nginx).
TARGETS = {
    "crawl_ratio_2000": 1.10,
    "crawl_ratio_10000": 1.05,
    "extraction_ratio": 2.0,
    "memory_ratio_10000_1000": 1.5,
    "incremental_ratio_1000": 0.35,
    "one_change_ratio_1000": 0.35,
    "link_flood_peak_rss_mib": 400,
}


@dataclass
class Run:
    """One crawl subprocess."""

    kind: str
    wall_s: float
    peak_rss_mib: float
    returncode: int
    output: str
    cpu_s: float = 0.0  # user + system CPU time of the crawl process (and its children)
    load_1min: float = 0.0  # the machine's load average when the run started
    timed_out: bool = False
    server_cpu_s: float = 0.0  # CPU time the web server used meanwhile


def _settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def _env() -> dict[str, str]:
    """The environment without anything that would point Scrapy at a project."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")}
    env.pop("EXITSCRAPE_DATA_DIR", None)
    return env


# Peak RSS must come from a small parent: a child's ru_maxrss starts at its parent's RSS when it
# was spawned (Linux records the old memory map's high-water mark at exec), and this process holds
# a generated site. The wrapper runs the command (killing it after the timeout, if one is given),
# then reports its wall time, peak RSS and CPU time.
_WRAPPER = """
import resource, subprocess, sys, time
timeout = float(sys.argv[1]) or None
start = time.perf_counter()
try:
    code, timed_out = subprocess.run(sys.argv[2:], timeout=timeout).returncode, 0
except subprocess.TimeoutExpired:
    code, timed_out = 124, 1
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(f"\\nbenchmark-measure {wall} {usage.ru_maxrss} {cpu} {timed_out}", file=sys.stderr)
sys.exit(code)
"""


def measure(
    kind: str,
    command: Sequence[str],
    cwd: Path,
    timeout: float = 0,
    server: servers.ServerContext | None = None,
) -> Run:
    """Run *command* (killed after *timeout* seconds, if not 0); its wall time, CPU time and
    peak resident set size, and the CPU time *server* used meanwhile."""
    load = os.getloadavg()[0]
    server_cpu = servers.server_cpu_seconds(server) if server else 0.0
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.run(
            [sys.executable, "-c", _WRAPPER, str(timeout), *command],
            cwd=cwd,
            env=_env(),
            stdout=log,
            stderr=log,
        )
        log.seek(0)
        output = log.read()
    if server:
        server_cpu = servers.server_cpu_seconds(server) - server_cpu
    found = re.findall(r"benchmark-measure ([0-9.e-]+) ([0-9]+) ([0-9.e-]+) ([01])", output)
    if not found:
        raise SystemExit(f"could not measure {kind}:\n{output[-3000:]}")
    wall, peak_kib, cpu, timed_out = found[-1]
    return Run(
        kind,
        float(wall),
        int(peak_kib) / 1024,
        process.returncode,
        output,
        cpu_s=float(cpu),
        load_1min=load,
        timed_out=timed_out == "1",
        server_cpu_s=server_cpu,
    )


def _show(run: Run, label: str | None = None) -> str:
    return (
        f"{label or run.kind:10s} {run.wall_s:7.2f} s  cpu {run.cpu_s:6.2f} s  "
        f"{run.peak_rss_mib:6.0f} MiB  server cpu {run.server_cpu_s:5.2f} s  "
        f"load {run.load_1min:.2f}"
    )


def floor_command(url: str, settings: dict[str, str]) -> list[str]:
    spider = str(HERE / "floor_spider.py")
    command = [sys.executable, "-m", "scrapy", "runspider", spider, "-a", f"start_url={url}"]
    return [*command, *_settings_args(settings)]


def exitscrape_command(url: str, data_dir: Path, settings: dict[str, str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "exitscrape",
        "crawl",
        "--start-url",
        url,
        "--data-dir",
        str(data_dir),
        *_settings_args(settings),
    ]


def check(run: Run, site: sitegen.Site) -> None:
    """Fail loudly when a crawl did not do the whole job: a fast wrong crawl proves nothing."""
    if run.returncode != 0:
        raise SystemExit(f"{run.kind} crawl failed (exit {run.returncode}):\n{run.output[-3000:]}")
    if run.kind == "floor":
        expected = f"floor: {site.responses} responses"  # pages, the PDF (HEAD), any flood
        if expected not in run.output:
            raise SystemExit(
                f"floor crawl incomplete, expected {expected!r}:\n{run.output[-3000:]}"
            )
    elif f"programmes: {site.programmes}," not in run.output:
        raise SystemExit(
            f"exitscrape crawl found the wrong number of programmes "
            f"(expected {site.programmes}):\n{run.output[-3000:]}"
        )


def crawl_benchmark(
    site: sitegen.Site,
    server: servers.ServerContext,
    repeats: int,
    work: Path,
    floor_settings: dict[str, str],
) -> dict[str, Any]:
    """Floor and exitscrape crawls, alternating, *repeats* each."""
    url = server.url
    runs: list[Run] = []
    for repeat in range(repeats):
        order = ("floor", "exitscrape") if repeat % 2 == 0 else ("exitscrape", "floor")
        for kind in order:
            if kind == "floor":
                command = floor_command(url, {**CRAWL_SETTINGS, **floor_settings})
            else:
                data_dir = work / f"data-{site.shape}-{site.programme_pages}-{repeat}"
                command = exitscrape_command(url, data_dir, CRAWL_SETTINGS)
            run = measure(kind, command, work, server=server)
            check(run, site)
            runs.append(run)
            print(f"  {_show(run)}", flush=True)
    floor = [r for r in runs if r.kind == "floor"]
    ours = [r for r in runs if r.kind == "exitscrape"]
    requests = site.responses
    floor_wall = statistics.median(r.wall_s for r in floor)
    ours_wall = statistics.median(r.wall_s for r in ours)
    return {
        "shape": site.shape,
        "programme_pages": site.programme_pages,
        "requests": requests,
        "site_bytes": site.bytes,
        "floor_wall_s": floor_wall,
        "exitscrape_wall_s": ours_wall,
        "floor_pages_per_s": requests / floor_wall,
        "exitscrape_pages_per_s": requests / ours_wall,
        "ratio_of_medians": ours_wall / floor_wall,
        "median_pair_ratio": statistics.median(
            o.wall_s / f.wall_s for o, f in zip(ours, floor, strict=True)
        ),
        "floor_cpu_s": statistics.median(r.cpu_s for r in floor),
        "exitscrape_cpu_s": statistics.median(r.cpu_s for r in ours),
        "median_pair_cpu_ratio": statistics.median(
            o.cpu_s / f.cpu_s for o, f in zip(ours, floor, strict=True)
        ),
        "server_cpu_s": statistics.median(r.server_cpu_s for r in runs),
        "floor_peak_rss_mib": statistics.median(r.peak_rss_mib for r in floor),
        "exitscrape_peak_rss_mib": statistics.median(r.peak_rss_mib for r in ours),
        "load_1min": [r.load_1min for r in runs],
        "runs": [_run_record(r) for r in runs],
    }


def _run_record(run: Run) -> dict[str, Any]:
    return {k: v for k, v in asdict(run).items() if k != "output"}


def incremental_benchmark(
    site: sitegen.Site,
    url: str,
    server: servers.ServerContext,
    repeats: int,
    work: Path,
    policy: str | None,
) -> dict[str, Any]:
    """A cold crawl with an empty HTTP cache, a rerun of the unchanged site, then a rerun after
    one programme page changed (the quick check finds it, and the site is crawled)."""
    colds, reruns, revalidated, changed = [], [], [], []
    first = sitegen.programme(0)
    page = site.root / f"{first.slug}.html"
    organisation = html.escape(first.organisation, quote=False)
    for repeat in range(repeats):
        base = work / f"incremental-{site.shape}-{site.programme_pages}-{repeat}"
        settings = {**CRAWL_SETTINGS, **CACHE_SETTINGS}
        if policy:
            settings["HTTPCACHE_POLICY"] = policy
        command = exitscrape_command(url, base / "data", settings)
        cold = measure("exitscrape", command, work, server=server)
        check(cold, site)
        seen = len(server.requests)
        rerun = measure("exitscrape", command, work, server=server)
        check(rerun, site)
        if "unchanged" not in rerun.output:
            raise SystemExit(f"the rerun of an unchanged site published:\n{rerun.output[-2000:]}")
        statuses = Counter(status for _, _, status in server.requests[seen:])
        revalidated.append(statuses[304] / max(1, sum(statuses.values())))  # 0 when none sent
        text = page.read_text(encoding="utf-8")
        assert text.count(organisation) == 1, f"{page} does not hold its organisation once"
        page.write_text(text.replace(organisation, f"{organisation} r{repeat}"), encoding="utf-8")
        after_change = measure("exitscrape", command, work, server=server)
        check(after_change, site)
        if "published version" not in after_change.output:
            raise SystemExit(f"a changed page did not publish:\n{after_change.output[-2000:]}")
        colds.append(cold)
        reruns.append(rerun)
        changed.append(after_change)
        print(f"  {_show(cold, 'cold')}", flush=True)
        print(f"  {_show(rerun, 'rerun')}", flush=True)
        print(f"  {_show(after_change, 'changed')}", flush=True)
    cold_s = statistics.median(r.wall_s for r in colds)
    rerun_s = statistics.median(r.wall_s for r in reruns)
    changed_s = statistics.median(r.wall_s for r in changed)
    return {
        "shape": site.shape,
        "programme_pages": site.programme_pages,
        "cold_wall_s": cold_s,
        "rerun_wall_s": rerun_s,
        "ratio": rerun_s / cold_s,
        "rerun_share_304": statistics.median(revalidated),
        "one_change_wall_s": changed_s,
        "one_change_ratio": changed_s / cold_s,
        "cold_cpu_s": statistics.median(r.cpu_s for r in colds),
        "rerun_cpu_s": statistics.median(r.cpu_s for r in reruns),
        "one_change_cpu_s": statistics.median(r.cpu_s for r in changed),
        "cache": f"HTTPCACHE_POLICY {policy}" if policy else "exitscrape's HTTP cache (defaults)",
        "runs": {
            "cold": [_run_record(r) for r in colds],
            "rerun": [_run_record(r) for r in reruns],
            "one_change": [_run_record(r) for r in changed],
        },
    }


def link_flood_benchmark(
    site: sitegen.Site,
    server: servers.ServerContext,
    work: Path,
    timeout: float,
    with_floor: bool,
) -> dict[str, Any]:
    """Peak memory of ``exitscrape crawl`` (and, if asked, the floor) on a site whose start page
    holds a flood of on-site links; a crawl still running after *timeout* seconds is stopped and
    its peak so far reported (``timed_out``)."""
    result: dict[str, Any] = {
        "links": site.responses - site.html_pages - 1,
        "start_page_bytes": site.bytes,
        "timeout_s": timeout,
    }
    url = server.url
    kinds = ("exitscrape", "floor") if with_floor else ("exitscrape",)
    for kind in kinds:
        if kind == "floor":
            command = floor_command(url, CRAWL_SETTINGS)
        else:
            command = exitscrape_command(url, work / "data-link-flood", CRAWL_SETTINGS)
        run = measure(kind, command, work, timeout=timeout, server=server)
        # exitscrape stops at its cap on links per page (a trap, exit 3, nothing published):
        # that is what this part measures the memory of.
        capped = kind == "exitscrape" and run.returncode == 3 and CAP_MESSAGE in run.output
        if not run.timed_out and not capped:
            check(run, site)
        stopped = (
            "  (stopped: timeout)" if run.timed_out else "  (stopped: link cap)" if capped else ""
        )
        print(f"  {_show(run)}{stopped}", flush=True)
        result[kind] = _run_record(run) | {"stopped_at_link_cap": capped}
    return result


def _median_time(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def extraction_benchmark(repeats: int) -> dict[str, Any]:
    """Per page: the spider's extraction (programme fields and content links, on an already
    parsed page) against parsing the same HTML with lxml."""
    import lxml.html
    from parsel import Selector

    from exitscrape.extraction.links import content_links
    from exitscrape.extraction.menu import read_menu
    from exitscrape.extraction.programme import ProgrammePage

    url = "http://127.0.0.1/page.html"

    def extract(selector: Selector) -> object:
        page = ProgrammePage(selector)
        return (
            page.is_programme,
            page.name,
            page.country,
            page.target_audience,
            page.organisation,
            page.objectives,
            page.description,
            content_links(selector, url),
        )

    pages: dict[str, str] = {}
    for path in sorted(SNAPSHOT_DIR.glob("*.html")):
        text = path.read_text(encoding="utf-8")
        if ProgrammePage.from_html(text).is_programme:
            pages[f"snapshot/{path.name}"] = text
    for index in range(3 * len(sitegen.LAYOUTS)):
        programme = sitegen.programme(index)
        pages[f"generated/{programme.layout}-{index}"] = sitegen.programme_page(programme)
    rows = []
    gc.disable()
    try:
        for name, text in pages.items():
            selector = Selector(text=text)
            parse = _median_time(lambda t=text: lxml.html.fromstring(t), repeats)
            selector_time = _median_time(lambda t=text: Selector(text=t), repeats)
            extraction = _median_time(lambda s=selector: extract(s), repeats)
            rows.append(
                {
                    "page": name,
                    "bytes": len(text.encode()),
                    "lxml_parse_ms": parse * 1e3,
                    "selector_ms": selector_time * 1e3,
                    "extraction_ms": extraction * 1e3,
                    "ratio": extraction / parse,
                }
            )
        menu_page = Selector(text=(SNAPSHOT_DIR / "index.html").read_text(encoding="utf-8"))
        menu = _median_time(lambda: read_menu(menu_page, url), repeats)
    finally:
        gc.enable()
    ratios = [row["ratio"] for row in rows]
    return {
        "pages": rows,
        "median_ratio": statistics.median(ratios),
        "max_ratio": max(ratios),
        "median_extraction_ms": statistics.median(r["extraction_ms"] for r in rows),
        "median_lxml_parse_ms": statistics.median(r["lxml_parse_ms"] for r in rows),
        "menu_once_per_crawl_ms": menu * 1e3,
    }


def dataset_benchmark(data_dir: Path, repeats: int, work: Path) -> dict[str, Any]:
    """``exitscrape.load()`` of the published version, and writing (publishing) its tables."""
    import exitscrape
    from exitscrape.dataset.store import DatasetStore

    store = DatasetStore(data_dir)
    version = store.latest()
    assert version is not None
    tables = {name: store.read(name, version) for name in ("programmes", "pages")}
    load_programmes = _median_time(lambda: exitscrape.load(data_dir=data_dir), repeats)
    load_pages = _median_time(lambda: exitscrape.load("pages", data_dir=data_dir), repeats)
    writes = []
    for repeat in range(repeats):
        target = DatasetStore(work / f"write-{repeat}")
        start = time.perf_counter()
        target.publish(tables, f"digest-{repeat}", {"benchmark": True})
        writes.append(time.perf_counter() - start)
    return {
        "programmes": tables["programmes"].num_rows,
        "pages": tables["pages"].num_rows,
        "load_programmes_ms": load_programmes * 1e3,
        "load_pages_ms": load_pages * 1e3,
        "publish_ms": statistics.median(writes) * 1e3,
    }


def machine(server: str) -> dict[str, Any]:
    import lxml.etree
    import pyarrow
    import scrapy

    cpu = "unknown"
    memory_gib = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                memory_gib = round(int(line.split()[1]) / 1024**2, 1)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "os": platform.platform(),
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
        "pyarrow": pyarrow.__version__,
        "server": server,
        "nginx": _nginx_version() if server == "nginx" else None,
        "load_at_start": os.getloadavg(),
    }


def _nginx_version() -> str | None:
    binary = servers.nginx_binary()
    if binary is None:
        return None
    done = subprocess.run([binary, "-v"], capture_output=True, text=True)
    return (done.stderr or done.stdout).strip().removeprefix("nginx version: ")


def _worst(values: Sequence[float]) -> float | None:
    return max(values) if values else None


def targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with its measured figure (the worst shape's), or ``None`` when the run did not
    measure it."""
    crawls = results.get("crawl", [])
    shapes = {c["shape"] for c in crawls}
    crawl = {(c["shape"], c["programme_pages"]): c for c in crawls}
    incremental = [c for c in results.get("incremental", []) if c["programme_pages"] == 1000]
    extraction = results.get("extraction")
    flood = (results.get("link_flood") or {}).get("exitscrape")

    def ratio(size: int) -> float | None:
        return _worst([c["median_pair_ratio"] for c in crawls if c["programme_pages"] == size])

    measured = {
        "crawl_ratio_2000": ratio(2000),
        "crawl_ratio_10000": ratio(10000),
        "extraction_ratio": extraction["median_ratio"] if extraction else None,
        "memory_ratio_10000_1000": _worst(
            [
                crawl[shape, 10000]["exitscrape_peak_rss_mib"]
                / crawl[shape, 1000]["exitscrape_peak_rss_mib"]
                for shape in shapes
                if (shape, 10000) in crawl and (shape, 1000) in crawl
            ]
        ),
        "incremental_ratio_1000": _worst([c["ratio"] for c in incremental]),
        "one_change_ratio_1000": _worst([c["one_change_ratio"] for c in incremental]),
        "link_flood_peak_rss_mib": flood["peak_rss_mib"] if flood else None,
    }
    return {
        name: {
            "target": limit,
            "measured": measured[name],
            "pass": None if measured[name] is None else measured[name] <= limit,
        }
        for name, limit in TARGETS.items()
    }


def report(results: dict[str, Any]) -> str:
    """The results as Markdown tables."""
    server = results.get("machine", {}).get("server", "?")
    lines = [
        f"Crawls served by {server}:",
        "",
        "| shape | programme pages | requests | floor (s) | exitscrape (s) | "
        "ratio (median of pairs) | floor CPU (s) | exitscrape CPU (s) | CPU ratio | "
        "floor peak RSS (MiB) | exitscrape peak RSS (MiB) | load (1 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in results.get("crawl", []):
        loads = c.get("load_1min", [])
        lines.append(
            f"| {c['shape']} | {c['programme_pages']:,} | {c['requests']:,} | "
            f"{c['floor_wall_s']:.2f} | {c['exitscrape_wall_s']:.2f} | "
            f"{c['median_pair_ratio']:.2f} | {c['floor_cpu_s']:.2f} | "
            f"{c['exitscrape_cpu_s']:.2f} | {c['median_pair_cpu_ratio']:.2f} | "
            f"{c['floor_peak_rss_mib']:.0f} | {c['exitscrape_peak_rss_mib']:.0f} | "
            f"{min(loads, default=0):.1f}–{max(loads, default=0):.1f} |"
        )
    if extraction := results.get("extraction"):
        lines += [
            "",
            f"Extraction per page: median {extraction['median_extraction_ms']:.3f} ms against "
            f"{extraction['median_lxml_parse_ms']:.3f} ms lxml parse; ratio median "
            f"{extraction['median_ratio']:.2f}, max {extraction['max_ratio']:.2f} over "
            f"{len(extraction['pages'])} pages; menu (once per crawl) "
            f"{extraction['menu_once_per_crawl_ms']:.3f} ms.",
        ]
    for inc in results.get("incremental", []):
        lines.append(
            f"\nIncremental rerun at {inc['programme_pages']:,} programme pages "
            f"({inc['shape']}): cold {inc['cold_wall_s']:.2f} s (CPU {inc['cold_cpu_s']:.2f} s), "
            f"unchanged rerun {inc['rerun_wall_s']:.2f} s (CPU {inc['rerun_cpu_s']:.2f} s), ratio "
            f"{inc['ratio']:.2f} ({inc['rerun_share_304']:.0%} of rerun requests answered 304; "
            f"{inc['cache']}); after one programme page changed "
            f"{inc['one_change_wall_s']:.2f} s (CPU {inc['one_change_cpu_s']:.2f} s), ratio "
            f"{inc['one_change_ratio']:.2f}."
        )
    if flood := results.get("link_flood"):
        for kind in ("exitscrape", "floor"):
            if run := flood.get(kind):
                lines.append(
                    f"\nLink flood ({flood['links']:,} links on a "
                    f"{flood['start_page_bytes'] / 1e6:.1f} MB start page), {kind}: peak RSS "
                    f"{run['peak_rss_mib']:.0f} MiB, {run['wall_s']:.1f} s"
                    + (" (stopped at the timeout)" if run["timed_out"] else "")
                    + "."
                )
    for ds in results.get("dataset", []):
        lines.append(
            f"\nDataset of {ds['programmes']:,} programmes / {ds['pages']:,} pages: load() "
            f"{ds['load_programmes_ms']:.1f} ms (pages table {ds['load_pages_ms']:.1f} ms), "
            f"publish {ds['publish_ms']:.1f} ms."
        )
    lines += ["", "| target | limit | measured | result |", "|---|---:|---:|---|"]
    for name, target in results.get("targets", {}).items():
        measured = target["measured"]
        verdict = {True: "pass", False: "FAIL", None: "not measured"}[target["pass"]]
        shown = "—" if measured is None else f"{measured:.2f}"
        lines.append(f"| {name} | {target['target']} | {shown} | {verdict} |")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> bool:
    """The scaling plot (wall time and peak memory against size, a line per shape and crawler);
    ``False`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return False
    crawls = results.get("crawl", [])
    if len(crawls) < 2:
        return False
    sizes = sorted({c["programme_pages"] for c in crawls})
    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for shape in dict.fromkeys(c["shape"] for c in crawls):
        crawl = sorted(
            (c for c in crawls if c["shape"] == shape), key=lambda c: c["programme_pages"]
        )
        x = [c["programme_pages"] for c in crawl]
        for key, label in (("floor", "plain Scrapy (floor)"), ("exitscrape", "exitscrape crawl")):
            label = f"{label}, {shape}"
            time_axis.plot(x, [c[f"{key}_wall_s"] for c in crawl], marker="o", label=label)
            memory_axis.plot(x, [c[f"{key}_peak_rss_mib"] for c in crawl], marker="o", label=label)
    for axis, title, unit in (
        (time_axis, "Wall time (median)", "seconds"),
        (memory_axis, "Peak resident memory (median)", "MiB"),
    ):
        axis.set_xscale("log")
        axis.set_xticks(sizes, [f"{size:,}" for size in sizes])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xlabel("programme pages")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
        axis.set_ylim(bottom=0)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return True


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark exitscrape against plain Scrapy on generated sites (see "
        "BENCHMARKS.md). The full default run takes a long time; start with --sizes 100,1000.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--sizes", default="100,1000,2000,10000", help="programme pages per site, comma-separated"
    )
    parser.add_argument(
        "--shapes",
        help=f"site shapes to crawl, comma-separated: {', '.join(sitegen.SHAPES)} (programme "
        "links per category page: "
        + ", ".join(f"{name} {n}" for name, n in sitegen.SHAPES.items())
        + "); the incremental rerun and the dataset timings use the first (default: all; "
        "with --quick standard)",
    )
    parser.add_argument(
        "--server",
        choices=("nginx", "python"),
        default="nginx",
        help="what serves the sites: nginx on loopback (benchmarks/setup.sh installs it) or the "
        "project's Python SiteServer (the fallback; in the benchmark process)",
    )
    parser.add_argument(
        "--nginx-workers",
        default="1",
        help="nginx worker_processes (a number or auto); see BENCHMARKS.md for why 1",
    )
    parser.add_argument(
        "--nginx-gzip", action="store_true", help="let nginx gzip HTML (off by default)"
    )
    parser.add_argument(
        "--link-flood-links",
        type=int,
        help="links on the start page of the link-flood memory benchmark (default 300,000; "
        "with --quick 2,000)",
    )
    parser.add_argument(
        "--link-flood-timeout",
        type=float,
        default=900,
        help="seconds after which a link-flood crawl is stopped (its peak so far is reported)",
    )
    parser.add_argument(
        "--link-flood-floor", action="store_true", help="run the floor on the link flood too"
    )
    parser.add_argument("--repeats", type=int, default=3, help="crawls of each kind per size")
    parser.add_argument(
        "--incremental-sizes", default="1000", help="sizes to time the incremental rerun at"
    )
    parser.add_argument("--extract-repeats", type=int, default=30, help="timings per page")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to leave out: crawl, incremental, extraction, dataset, "
        "link-flood",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: a 30-page site, one run each (overrides sizes and repeats)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results JSON (default: benchmarks/results.json, with --quick results-quick.json)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        help="scaling plot, PNG (default: benchmarks/scaling.png; none with --quick)",
    )
    parser.add_argument("--no-plot", action="store_true", help="draw no plot")
    parser.add_argument(
        "--floor-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra setting for the floor only (repeatable), e.g. CONCURRENT_ITEMS=8 to give "
        "the floor exitscrape's own tuning",
    )
    parser.add_argument(
        "--cache-policy",
        help="HTTPCACHE_POLICY for the incremental rerun instead of exitscrape's own (e.g. "
        "scrapy.extensions.httpcache.DummyPolicy: no revalidation, for comparison)",
    )
    parser.add_argument("--work-dir", type=Path, help="keep generated sites and data here")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.incremental_sizes, args.repeats, args.extract_repeats = "30", "30", 1, 3
        args.shapes = args.shapes or "standard"
        args.link_flood_links = args.link_flood_links or 2000
        args.out = args.out or HERE / "results-quick.json"
        args.no_plot = args.no_plot or args.plot is None
    args.out = args.out or HERE / "results.json"
    args.plot = None if args.no_plot else args.plot or HERE / "scaling.png"
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        args.incremental_sizes = [int(s) for s in args.incremental_sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes and --incremental-sizes take comma-separated whole numbers")
    if bad := [pair for pair in args.floor_setting if "=" not in pair]:
        parser.error(f"--floor-setting expects NAME=VALUE, got {bad[0]!r}")
    args.floor_setting = dict(pair.split("=", 1) for pair in args.floor_setting)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if unknown := args.skip - {"crawl", "incremental", "extraction", "dataset", "link-flood"}:
        parser.error(f"--skip: unknown part(s) {', '.join(sorted(unknown))}")
    args.link_flood_links = args.link_flood_links or 300_000
    args.shapes = [s.strip() for s in (args.shapes or ",".join(sitegen.SHAPES)).split(",")]
    args.shapes = [s for s in args.shapes if s]
    if not args.shapes or (unknown := set(args.shapes) - set(sitegen.SHAPES)):
        parser.error(f"--shapes: choose among {', '.join(sitegen.SHAPES)}")
    if args.server == "nginx" and servers.nginx_binary() is None:
        parser.exit(
            3,
            f"nginx is not installed; install it ({servers.INSTALL_HINT}) or benchmark against "
            "the project's Python server with --server python (figures not comparable)\n",
        )
    if args.repeats < 1 or args.extract_repeats < 1:
        parser.error("--repeats and --extract-repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(args.server),
        "server": {
            "kind": args.server,
            "nginx_workers": args.nginx_workers,
            "gzip": args.nginx_gzip,
        },
        "settings": CRAWL_SETTINGS,
        "floor_settings": args.floor_setting,
        "repeats": args.repeats,
        "crawl": [],
        "incremental": [],
        "dataset": [],
    }

    def serve(root: Path) -> servers.ServerContext:
        return servers.make_server(args.server, root, args.nginx_workers, args.nginx_gzip)

    with tempfile.TemporaryDirectory(prefix="exitscrape-bench-") as temporary:
        work = args.work_dir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        if "extraction" not in args.skip:
            print("extraction per page", flush=True)
            results["extraction"] = extraction_benchmark(args.extract_repeats)
        for shape in args.shapes:
            sizes = set(args.sizes) if "crawl" not in args.skip else set()
            if shape == args.shapes[0] and "incremental" not in args.skip:
                sizes |= set(args.incremental_sizes)
            for size in sorted(sizes):
                started = time.perf_counter()
                site = sitegen.generate(work / f"site-{shape}-{size}", size, shape=shape)
                print(
                    f"site of {size:,} programme pages ({shape}): {site.html_pages:,} pages, "
                    f"{site.bytes / 1e6:.1f} MB, generated in "
                    f"{time.perf_counter() - started:.1f} s; served by {args.server}",
                    flush=True,
                )
                with serve(site.root) as server:
                    if size in args.sizes and "crawl" not in args.skip:
                        results["crawl"].append(
                            crawl_benchmark(site, server, args.repeats, work, args.floor_setting)
                        )
                        if "dataset" not in args.skip and shape == args.shapes[0]:
                            data_dir = work / f"data-{shape}-{size}-0"
                            results["dataset"].append(
                                dataset_benchmark(data_dir, 5, work / f"writes-{shape}-{size}")
                            )
                    if (
                        size in args.incremental_sizes
                        and shape == args.shapes[0]
                        and "incremental" not in args.skip
                    ):
                        print("  incremental rerun", flush=True)
                        results["incremental"].append(
                            incremental_benchmark(
                                site, server.url, server, args.repeats, work, args.cache_policy
                            )
                        )
                shutil.rmtree(site.root)
        if "link-flood" not in args.skip:
            site = sitegen.generate_link_flood(work / "site-link-flood", args.link_flood_links)
            print(
                f"link flood: {args.link_flood_links:,} links on a {site.bytes / 1e6:.1f} MB "
                f"start page; served by {args.server}",
                flush=True,
            )
            with serve(site.root) as server:
                results["link_flood"] = link_flood_benchmark(
                    site, server, work, args.link_flood_timeout, args.link_flood_floor
                )
            shutil.rmtree(site.root)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_at_end"] = os.getloadavg()
    results["targets"] = targets(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print()
    print(report(results))
    print(f"\nresults: {args.out}")
    if args.plot and plot(results, args.plot):
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

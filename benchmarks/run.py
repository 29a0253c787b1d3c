"""Benchmarks of exitscrape: crawl speed against plain Scrapy, memory, extraction, rerun, load.

    python benchmarks/run.py                      # the full run (sizes 100 to 10,000; long)
    python benchmarks/run.py --sizes 100,1000 --repeats 3
    python benchmarks/run.py --quick              # a tiny site, one run each: a smoke test

Each size gets a synthetic site in the real markup (benchmarks/sitegen.py) served on 127.0.0.1.
Crawls run as subprocesses, alternating the plain Scrapy floor (benchmarks/floor_spider.py) and
``exitscrape crawl``, with the same settings; wall time and peak RSS are the child's own. Results
go to a JSON file and, with matplotlib installed, a scaling plot; a summary table is printed.
See BENCHMARKS.md.
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

import sitegen  # noqa: E402  (beside this script, not a package)

from exitscrape.snapshot.server import SNAPSHOT_DIR, SiteServer  # noqa: E402

#: The settings of the acceptance check: delays, AutoThrottle and the HTTP cache off, 16 at once;
#: the page budget and depth limit off too (they fit the live site, not 10,000 generated pages).
CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "HTTPCACHE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "16",
    "LOG_LEVEL": "WARNING",
    "CLOSESPIDER_PAGECOUNT": "0",
    "DEPTH_LIMIT": "0",
}
#: The incremental rerun: exitscrape's own HTTP cache (on by default; every page revalidated with
#: If-None-Match / If-Modified-Since, an unchanged page answered 304).
CACHE_SETTINGS = {"HTTPCACHE_ENABLED": "True"}
TARGETS = {
    "crawl_ratio_2000": 1.2,
    "extraction_ratio": 2.0,
    "memory_ratio_10000_1000": 1.5,
    "incremental_ratio_1000": 0.4,
}


@dataclass
class Run:
    """One crawl subprocess."""

    kind: str
    wall_s: float
    peak_rss_mib: float
    returncode: int
    output: str


def _settings_args(settings: dict[str, str]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def _env() -> dict[str, str]:
    """The environment without anything that would point Scrapy at a project."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")}
    env.pop("EXITSCRAPE_DATA_DIR", None)
    return env


# Peak RSS must come from a small parent: a child's ru_maxrss starts at its parent's RSS when it
# was spawned (Linux records the old memory map's high-water mark at exec), and this process holds
# a generated site. The wrapper runs the command, then reports its wall time and peak RSS.
_WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"\\nbenchmark-measure {wall} {peak}", file=sys.stderr)
sys.exit(code)
"""


def measure(kind: str, command: Sequence[str], cwd: Path) -> Run:
    """Run *command*; its wall time and peak resident set size."""
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.run(
            [sys.executable, "-c", _WRAPPER, *command], cwd=cwd, env=_env(), stdout=log, stderr=log
        )
        log.seek(0)
        output = log.read()
    found = re.findall(r"benchmark-measure ([0-9.e-]+) ([0-9]+)", output)
    if not found:
        raise SystemExit(f"could not measure {kind}:\n{output[-3000:]}")
    wall, peak_kib = found[-1]
    return Run(kind, float(wall), int(peak_kib) / 1024, process.returncode, output)


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
        expected = f"floor: {site.html_pages + 1} responses"  # + the PDF (HEAD)
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
    site: sitegen.Site, url: str, repeats: int, work: Path, floor_settings: dict[str, str]
) -> dict[str, Any]:
    """Floor and exitscrape crawls, alternating, *repeats* each."""
    runs: list[Run] = []
    for repeat in range(repeats):
        order = ("floor", "exitscrape") if repeat % 2 == 0 else ("exitscrape", "floor")
        for kind in order:
            if kind == "floor":
                command = floor_command(url, {**CRAWL_SETTINGS, **floor_settings})
            else:
                data_dir = work / f"data-{site.programme_pages}-{repeat}"
                command = exitscrape_command(url, data_dir, CRAWL_SETTINGS)
            run = measure(kind, command, work)
            check(run, site)
            runs.append(run)
            print(f"  {kind:10s} {run.wall_s:7.2f} s  {run.peak_rss_mib:6.0f} MiB", flush=True)
    floor = [r for r in runs if r.kind == "floor"]
    ours = [r for r in runs if r.kind == "exitscrape"]
    requests = site.html_pages + 1
    floor_wall = statistics.median(r.wall_s for r in floor)
    ours_wall = statistics.median(r.wall_s for r in ours)
    return {
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
        "floor_peak_rss_mib": statistics.median(r.peak_rss_mib for r in floor),
        "exitscrape_peak_rss_mib": statistics.median(r.peak_rss_mib for r in ours),
        "runs": [{k: v for k, v in asdict(r).items() if k != "output"} for r in runs],
    }


def incremental_benchmark(
    site: sitegen.Site, url: str, server: SiteServer, repeats: int, work: Path, policy: str | None
) -> dict[str, Any]:
    """A cold crawl with an empty HTTP cache, a rerun of the unchanged site, then a rerun after
    one programme page changed (the quick check finds it, and the site is crawled)."""
    colds, reruns, revalidated, changed = [], [], [], []
    first = sitegen.programme(0)
    page = site.root / f"{first.slug}.html"
    organisation = html.escape(first.organisation, quote=False)
    for repeat in range(repeats):
        base = work / f"incremental-{site.programme_pages}-{repeat}"
        settings = {**CRAWL_SETTINGS, **CACHE_SETTINGS}
        if policy:
            settings["HTTPCACHE_POLICY"] = policy
        command = exitscrape_command(url, base / "data", settings)
        cold = measure("exitscrape", command, work)
        check(cold, site)
        seen = len(server.requests)
        rerun = measure("exitscrape", command, work)
        check(rerun, site)
        if "unchanged" not in rerun.output:
            raise SystemExit(f"the rerun of an unchanged site published:\n{rerun.output[-2000:]}")
        statuses = Counter(status for _, _, status in server.requests[seen:])
        revalidated.append(statuses[304] / max(1, sum(statuses.values())))  # 0 when none sent
        text = page.read_text(encoding="utf-8")
        assert text.count(organisation) == 1, f"{page} does not hold its organisation once"
        page.write_text(text.replace(organisation, f"{organisation} r{repeat}"), encoding="utf-8")
        after_change = measure("exitscrape", command, work)
        check(after_change, site)
        if "published version" not in after_change.output:
            raise SystemExit(f"a changed page did not publish:\n{after_change.output[-2000:]}")
        colds.append(cold.wall_s)
        reruns.append(rerun.wall_s)
        changed.append(after_change.wall_s)
        print(
            f"  cold {cold.wall_s:6.2f} s  rerun {rerun.wall_s:6.2f} s  "
            f"one page changed {after_change.wall_s:6.2f} s",
            flush=True,
        )
    cold_s, rerun_s = statistics.median(colds), statistics.median(reruns)
    return {
        "programme_pages": site.programme_pages,
        "cold_wall_s": cold_s,
        "rerun_wall_s": rerun_s,
        "ratio": rerun_s / cold_s,
        "rerun_share_304": statistics.median(revalidated),
        "one_change_wall_s": statistics.median(changed),
        "cache": f"HTTPCACHE_POLICY {policy}" if policy else "exitscrape's HTTP cache (defaults)",
    }


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


def machine() -> dict[str, Any]:
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
    }


def targets(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with its measured figure, or ``None`` when the run did not measure it."""
    crawl = {c["programme_pages"]: c for c in results.get("crawl", [])}
    incremental = {c["programme_pages"]: c for c in results.get("incremental", [])}
    extraction = results.get("extraction")
    measured = {
        "crawl_ratio_2000": crawl[2000]["median_pair_ratio"] if 2000 in crawl else None,
        "extraction_ratio": extraction["median_ratio"] if extraction else None,
        "memory_ratio_10000_1000": crawl[10000]["exitscrape_peak_rss_mib"]
        / crawl[1000]["exitscrape_peak_rss_mib"]
        if 10000 in crawl and 1000 in crawl
        else None,
        "incremental_ratio_1000": incremental[1000]["ratio"] if 1000 in incremental else None,
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
    lines = [
        "| programme pages | requests | floor (s) | exitscrape (s) | floor pages/s | "
        "exitscrape pages/s | ratio (median of pairs) | floor peak RSS (MiB) | "
        "exitscrape peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in results.get("crawl", []):
        lines.append(
            f"| {c['programme_pages']:,} | {c['requests']:,} | {c['floor_wall_s']:.2f} | "
            f"{c['exitscrape_wall_s']:.2f} | {c['floor_pages_per_s']:.0f} | "
            f"{c['exitscrape_pages_per_s']:.0f} | {c['median_pair_ratio']:.2f} | "
            f"{c['floor_peak_rss_mib']:.0f} | {c['exitscrape_peak_rss_mib']:.0f} |"
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
            f"\nIncremental rerun at {inc['programme_pages']:,} programme pages: cold "
            f"{inc['cold_wall_s']:.2f} s, rerun {inc['rerun_wall_s']:.2f} s, ratio "
            f"{inc['ratio']:.2f} ({inc['rerun_share_304']:.0%} of rerun requests answered 304; "
            f"{inc['cache']}); after one programme page changed "
            f"{inc.get('one_change_wall_s', float('nan')):.2f} s."
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
    """The scaling plot (wall time and peak memory against size); ``False`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return False
    crawl = results.get("crawl", [])
    if len(crawl) < 2:
        return False
    sizes = [c["programme_pages"] for c in crawl]
    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("floor", "plain Scrapy (floor)"), ("exitscrape", "exitscrape crawl")):
        time_axis.plot(sizes, [c[f"{key}_wall_s"] for c in crawl], marker="o", label=label)
        memory_axis.plot(sizes, [c[f"{key}_peak_rss_mib"] for c in crawl], marker="o", label=label)
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
        axis.legend()
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
    parser.add_argument("--repeats", type=int, default=3, help="crawls of each kind per size")
    parser.add_argument(
        "--incremental-sizes", default="1000", help="sizes to time the incremental rerun at"
    )
    parser.add_argument("--extract-repeats", type=int, default=30, help="timings per page")
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to leave out: crawl, incremental, extraction, dataset",
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
    if unknown := args.skip - {"crawl", "incremental", "extraction", "dataset"}:
        parser.error(f"--skip: unknown part(s) {', '.join(sorted(unknown))}")
    if args.repeats < 1 or args.extract_repeats < 1:
        parser.error("--repeats and --extract-repeats must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": CRAWL_SETTINGS,
        "floor_settings": args.floor_setting,
        "repeats": args.repeats,
        "crawl": [],
        "incremental": [],
        "dataset": [],
    }
    with tempfile.TemporaryDirectory(prefix="exitscrape-bench-") as temporary:
        work = args.work_dir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        if "extraction" not in args.skip:
            print("extraction per page", flush=True)
            results["extraction"] = extraction_benchmark(args.extract_repeats)
        for size in sorted(set(args.sizes) | set(args.incremental_sizes)):
            started = time.perf_counter()
            site = sitegen.generate(work / f"site-{size}", size)
            print(
                f"site of {size:,} programme pages: {site.html_pages:,} pages, "
                f"{site.bytes / 1e6:.1f} MB, generated in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            with SiteServer(site.root) as server:
                if size in args.sizes and "crawl" not in args.skip:
                    results["crawl"].append(
                        crawl_benchmark(site, server.url, args.repeats, work, args.floor_setting)
                    )
                    if "dataset" not in args.skip:
                        data_dir = work / f"data-{size}-0"
                        results["dataset"].append(
                            dataset_benchmark(data_dir, 5, work / f"writes-{size}")
                        )
                if size in args.incremental_sizes and "incremental" not in args.skip:
                    print("  incremental rerun", flush=True)
                    results["incremental"].append(
                        incremental_benchmark(
                            site, server.url, server, args.repeats, work, args.cache_policy
                        )
                    )
            shutil.rmtree(site.root)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
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

"""Where one crawl's time goes, phase by phase, for ``exitscrape crawl`` or the plain Scrapy floor.

    python benchmarks/phases.py exitscrape URL [-s NAME=VALUE ...] [--data-dir DIR] [--repeats N]
    python benchmarks/phases.py floor URL [-s NAME=VALUE ...] [--repeats N]

The crawl runs in a child process (this script again, with hooks): the child marks the wall
clock (``CLOCK_MONOTONIC``, shared by both processes) and its CPU time at each phase boundary,
and the parent adds what happens before the child's first line (interpreter start-up) and after
its last (Python's teardown, or exitscrape's ``os._exit``). Phases: start-up, imports (Scrapy,
Twisted and the command's own modules; later lazy imports count where they happen), building
the crawler (up to ``engine_started``), a rerun's quick check (until it finds a difference), the
crawl (to the engine's ``close_spider``), closing
(for exitscrape: assembly, gates, Parquet, quick-check plan, run report; each also timed on its
own), the reactor's stop, and exit. The crawl's settings default to the benchmark's
(benchmarks/run.py); medians over ``--repeats`` runs are printed as a table.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_MARKS: list[tuple[str, float, float]] = []
_TIMED: dict[str, list[float]] = {}  # function -> [wall, cpu, calls]
_RECEIVERS: list[Callable[[], None]] = []  # signals hold their receivers weakly


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def mark(name: str) -> None:
    """A phase boundary: *name* ends here."""
    _MARKS.append((name, time.perf_counter(), _cpu()))


def _timed(owner: Any, attribute: str, label: str) -> None:
    """Wrap ``owner.attribute`` so that its calls' wall and CPU time add up under *label*."""
    original: Callable[..., Any] = getattr(owner, attribute)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), _cpu()
        try:
            return original(*args, **kwargs)
        finally:
            total = _TIMED.setdefault(label, [0.0, 0.0, 0])
            total[0] += time.perf_counter() - wall
            total[1] += _cpu() - cpu
            total[2] += 1

    setattr(owner, attribute, wrapper)


def _hook_scrapy() -> None:
    from scrapy import signals
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler

    original_init = Crawler.__init__

    def init(self: Crawler, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        _RECEIVERS.append(lambda: mark("build crawler"))
        self.signals.connect(_RECEIVERS[-1], signal=signals.engine_started)

    Crawler.__init__ = init  # type: ignore[method-assign]
    original_close = ExecutionEngine.close_spider_async

    async def close_spider_async(self: ExecutionEngine, *, reason: str = "cancelled") -> None:
        mark("crawl")
        await original_close(self, reason=reason)
        mark("close spider")

    ExecutionEngine.close_spider_async = close_spider_async  # type: ignore[method-assign]


def _hook_exitscrape() -> None:
    from exitscrape.dataset import store
    from exitscrape.extensions import publish, runreport
    from exitscrape.incremental import quickcheck
    from exitscrape.incremental.middleware import QuickCheckMiddleware

    _timed(publish, "assemble", "assemble")
    _timed(publish, "check", "quality gates")
    _timed(publish.PublishExtension, "_previous", "read previous version")
    _timed(store.DatasetStore, "publish", "publish (Parquet, manifest)")
    _timed(quickcheck, "write_plan", "quick-check plan")
    _timed(runreport, "write", "run report")
    _timed(publish.PublishExtension, "_publish", "all of publishing")

    begin_crawl = QuickCheckMiddleware._begin_crawl

    def crawl_begins(self: QuickCheckMiddleware) -> None:
        mark("quick check")  # a rerun's check found a difference (or lost an answer): crawl
        begin_crawl(self)

    QuickCheckMiddleware._begin_crawl = crawl_begins  # type: ignore[method-assign]


def _report(path: str) -> None:
    mark("stop reactor")
    lazy = [name for name in ("pandas", "pyarrow") if name in sys.modules]
    document = {"marks": _MARKS, "timed": _TIMED, "loaded": lazy}
    Path(path).write_text(json.dumps(document), encoding="utf-8")


def child(kind: str, report: str, argv: list[str]) -> None:
    """In the crawl's process: import, hook, crawl, report."""
    mark("start-up")
    if kind == "exitscrape":
        import scrapy.crawler
        import scrapy.utils.project

        import exitscrape.cli
        import exitscrape.cli.crawl
        import exitscrape.extensions.publish

        mark("imports")
        _hook_scrapy()
        _hook_exitscrape()
        real_exit = os._exit

        def exit_now(code: int) -> None:
            _report(report)
            real_exit(code)

        os._exit = exit_now  # type: ignore[assignment]
        sys.argv = ["exitscrape", "crawl", *argv]
        exitscrape.cli.run()
    else:
        import scrapy.cmdline
        import scrapy.crawler

        mark("imports")
        _hook_scrapy()
        try:
            scrapy.cmdline.execute(["scrapy", "runspider", str(HERE / "floor_spider.py"), *argv])
        finally:
            _report(report)


PHASES = (
    "start-up",
    "imports",
    "build crawler",
    "quick check",
    "crawl",
    "close spider",
    "stop reactor",
    "exit",
)


def measure(kind: str, argv: list[str]) -> dict[str, Any]:
    """One crawl: wall and CPU seconds per phase, and the timed functions."""
    with tempfile.TemporaryDirectory() as temporary, tempfile.TemporaryFile("w+") as log:
        report = Path(temporary) / "report.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")}
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", kind, str(report), *argv],
            env=env,
            stdout=log,
            stderr=log,
        )
        _, _, usage = os.wait4(process.pid, 0)
        end = time.perf_counter()
        process.returncode = 0  # reaped above
        log.seek(0)
        output = log.read()
        if not report.exists():
            raise SystemExit(f"the crawl did not report:\n{output[-3000:]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    marks = {name: (wall, cpu) for name, wall, cpu in data["marks"]}
    phases: dict[str, tuple[float, float]] = {}
    previous_wall, previous_cpu = start, 0.0
    for name in PHASES[:-1]:
        if name in marks:
            wall, cpu = marks[name]
            phases[name] = (wall - previous_wall, cpu - previous_cpu)
            previous_wall, previous_cpu = wall, cpu
    total_cpu = usage.ru_utime + usage.ru_stime
    phases["exit"] = (end - previous_wall, total_cpu - previous_cpu)
    phases["total"] = (end - start, total_cpu)
    timed = {name: (wall, cpu) for name, (wall, cpu, _) in data["timed"].items()}
    return {"phases": phases, "timed": timed, "output": output[-500:]}


def _table(runs: Sequence[dict[str, Any]], kind: str) -> str:
    lines = [f"{kind}: medians of {len(runs)} run(s), seconds", "", "| phase | wall | CPU |"]
    lines.append("|---|---:|---:|")
    names = [*PHASES, "total"]
    for name in names:
        values = [r["phases"][name] for r in runs if name in r["phases"]]
        if values:
            wall = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            lines.append(f"| {name} | {wall:.3f} | {cpu:.3f} |")
    timed_names = dict.fromkeys(n for r in runs for n in r["timed"])
    for name in timed_names:
        values = [r["timed"][name] for r in runs if name in r["timed"]]
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        lines.append(f"| &nbsp;&nbsp;{name} (within close spider) | {wall:.3f} | {cpu:.3f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        child(argv[1], argv[2], argv[3:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("exitscrape", "floor"))
    parser.add_argument("url")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--data-dir", type=Path, help="exitscrape's data dir (default: fresh)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write every run's phases here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from run import CRAWL_SETTINGS

    settings = {**CRAWL_SETTINGS, **dict(s.split("=", 1) for s in args.settings)}
    options = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    runs = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="exitscrape-phases-") as temporary:
            if args.kind == "exitscrape":
                data_dir = args.data_dir or Path(temporary) / "data"
                crawl_argv = ["--start-url", args.url, "--data-dir", str(data_dir), *options]
            else:
                crawl_argv = ["-a", f"start_url={args.url}", *options]
            runs.append(measure(args.kind, crawl_argv))
            if args.data_dir is None:
                shutil.rmtree(Path(temporary) / "data", ignore_errors=True)
    print(_table(runs, args.kind))
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``exitscrape runs``: recent runs from their reports in ``<data-dir>/runs/``, as a table."""

from __future__ import annotations

import argparse
from typing import Any

from exitscrape.cli.options import add_data_dir, positive_int
from exitscrape.cli.output import echo, json_text, one_line
from exitscrape.dataset.store import DatasetError, resolve_data_dir
from exitscrape.extensions import runreport

COLUMNS = ("run", "started (UTC)", "secs", "outcome", "version", "pages", "304", "failed", "progs")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "runs",
        help="list recent crawl runs and their outcomes",
        description="Recent runs, newest first, from the reports every run writes to "
        "<data-dir>/runs/<run-id>.json (open one for its settings, stats and gate results). "
        "Outcomes: published, unchanged, gate_failed (a quality gate stopped publishing), "
        "failed (nothing usable crawled), locked (another run was using the data dir), "
        "interrupted (Ctrl-C, SIGTERM).",
    )
    add_data_dir(parser)
    parser.add_argument(
        "-n", "--limit", type=positive_int, default=20, help="how many runs to show (default: 20)"
    )
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.set_defaults(func=run)


def _row(report: dict[str, Any]) -> tuple[str, ...]:
    pages = report.get("pages") or {}
    version = report.get("version") or (
        f"= {report['latest']}" if report.get("outcome") == "unchanged" else "-"
    )
    duration = report.get("duration_seconds")
    cells = (
        report.get("run_id", "?"),
        str(report.get("started_at", "?")).replace("+00:00", "").replace("T", " "),
        f"{duration:.1f}" if isinstance(duration, int | float) else "?",
        str(report.get("outcome", "?")) + (" (forced)" if report.get("forced") else ""),
        version,
        pages.get("met", 0),
        pages.get("revalidated", 0),
        pages.get("failed", 0),
        report.get("programmes", 0),
    )
    return tuple(one_line(cell) for cell in cells)


def run(args: argparse.Namespace) -> int:
    data_dir = resolve_data_dir(args.data_dir)
    if not data_dir.is_dir():
        raise DatasetError(f"no data dir {data_dir} (pass --data-dir or set EXITSCRAPE_DATA_DIR)")
    reports = list(runreport.read_all(data_dir))[: args.limit]
    if args.json:
        echo(json_text(reports))
        return 0
    if not reports:
        echo(f"no runs recorded in {data_dir / runreport.RUNS_DIR}")
        return 0
    rows = [COLUMNS, *(_row(report) for report in reports)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines += [
        f"{one_line(report['run_id'])}: {one_line(report['reason'])}"
        for report in reports
        if report.get("outcome") not in ("published", "unchanged") and report.get("reason")
    ]
    echo(*lines)
    return 0

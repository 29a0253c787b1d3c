"""Run reports: one JSON file per run in ``<data-dir>/runs/<run-id>.json``, failed runs too.

A report holds the run's start and end, start URL, the settings that differ from Scrapy's
defaults (and which of them were overridden for this run; secrets redacted, see
:mod:`exitscrape.dataset.redact`), the crawl's figures (pages fetched, revalidated with a 304,
served from the cache, failed by reason), the programmes whose copies' texts differ, every
quality gate's result, and the version published or why none was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exitscrape import __version__
from exitscrape.dataset.files import atomic_write, make_dirs, read_regular
from exitscrape.dataset.redact import redact_settings, redact_urls
from exitscrape.dataset.store import TIME_NAME_FORMAT
from exitscrape.extensions.outcome import Outcome, RunOutcome

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

RUNS_DIR = "runs"
_REPORT_LIMIT = 16 << 20  # a report is a few KB; a planted huge file is skipped
#: Settings priority of values given per run (``-s``, scrapyd's ``setting=``).
_OVERRIDE_PRIORITY = 40
#: Crawl stats copied into the manifest and the run report.
CRAWL_STATS = (
    "start_time",
    "finish_time",
    "finish_reason",
    "elapsed_time_seconds",
    "downloader/request_count",
    "downloader/response_count",
    "item_scraped_count",
    "log_count/ERROR",
    "retry/count",
    "httpcache/miss",
    "httpcache/revalidate",
    "httpcache/invalidate",
    "httpcache/store",
)


def run_id(started: datetime) -> str:
    """Sorts by start time; the pid keeps runs started in the same second apart."""
    return f"{started.strftime(TIME_NAME_FORMAT)}-{os.getpid()}"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def crawl_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """The figures of :data:`CRAWL_STATS` a crawl's stats hold."""
    return {name: stats[name] for name in CRAWL_STATS if name in stats}


@dataclass(frozen=True)
class SettingsReport:
    changed: dict[str, Any]  # settings whose value differs from Scrapy's default
    overridden: list[str]  # the names set for this run


def non_default_settings(settings: BaseSettings) -> SettingsReport:
    from scrapy.settings import BaseSettings, default_settings  # `exitscrape runs` needs neither

    changed, overridden = {}, []
    for name in sorted(settings.attributes):
        value = settings[name]
        if isinstance(value, BaseSettings):
            value = value.copy_to_dict()
        if value != getattr(default_settings, name, None):
            changed[name] = _jsonable(value)
        if (settings.getpriority(name) or 0) >= _OVERRIDE_PRIORITY:
            overridden.append(name)
    return SettingsReport(redact_settings(changed), overridden)


def build(
    run: RunOutcome, settings: BaseSettings, stats: dict[str, Any], latest: str | None
) -> dict[str, Any]:
    """The report of *run* (the data dir's *latest* version named after it ended)."""
    finished = datetime.now(UTC)
    report_settings = non_default_settings(settings)
    report = {
        "run_id": run.run_id,
        "started_at": run.started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "duration_seconds": round((finished - run.started).total_seconds(), 3),
        "pid": os.getpid(),
        "start_url": run.start_url,
        "data_dir": str(run.data_dir.resolve()),
        "exitscrape_version": __version__,
        "outcome": str(run.outcome),
        "version": run.version if run.outcome is Outcome.PUBLISHED else None,
        "latest": latest,
        "reason": run.reason
        or ("the data equals the latest version's" if run.outcome is Outcome.UNCHANGED else None),
        "forced": run.forced,
        "damaged_latest": run.damaged_latest,
        "finish_reason": run.finish_reason,
        "signal": run.signal,
        "pages": {
            "requests": run.requests,
            "responses": run.responses,
            "revalidated": run.revalidated,
            "from_cache": run.from_cache,
            "downloaded": run.downloaded,
            "robots_txt": run.robots_txt,
            "met": run.pages,
            "failed": run.failed_pages,
            "failed_by_reason": run.failed_by_reason,
        },
        "programmes": run.programmes,
        "differing_copies": [asdict(d) for d in run.disagreements],
        "gates": [gate.as_dict() for gate in run.gates],
        "quick_check": asdict(run.quick_check) if run.quick_check else None,
        "as_of": run.as_of.isoformat() if run.as_of else None,
        "source": run.source,
        "settings": report_settings.changed,
        "overridden_settings": report_settings.overridden,
        "crawl_stats": crawl_stats(stats),
    }
    redacted: dict[str, Any] = redact_urls(report)
    return redacted


def write(data_dir: Path, report: dict[str, Any]) -> Path:
    """Write *report* (which carries its ``run_id``) atomically; return its path."""
    directory = data_dir / RUNS_DIR
    make_dirs(directory)
    path = directory / f"{report['run_id']}.json"
    atomic_write(path, json.dumps(report, indent=2, default=str) + "\n")
    return path


def read_all(data_dir: Path) -> Iterable[dict[str, Any]]:
    """Every readable report, newest first."""
    directory = data_dir / RUNS_DIR
    if not directory.is_dir():
        return []
    reports = []
    for path in sorted(directory.glob("*.json"), reverse=True):
        try:
            report = json.loads(read_regular(path, _REPORT_LIMIT))
        except (OSError, ValueError):
            continue
        if isinstance(report, dict):
            reports.append(report)
    return reports

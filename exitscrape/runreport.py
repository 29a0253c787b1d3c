"""Run reports: one JSON file per run in ``<data-dir>/runs/<run-id>.json``, failed runs too.

A report holds the run's start and end, start URL, the settings that differ from Scrapy's
defaults (and which of them were overridden for this run), the crawl's figures (pages fetched,
revalidated with a 304, failed by reason), every quality gate's result, and the version
published or why none was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings, default_settings

RUNS_DIR = "runs"
#: Settings priority of values given per run (``-s``, scrapyd's ``setting=``).
_OVERRIDE_PRIORITY = 40


def run_id(started: datetime) -> str:
    """Sorts by start time; the pid keeps runs started in the same second apart."""
    return f"{started.strftime('%Y%m%dT%H%M%SZ')}-{os.getpid()}"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def non_default_settings(settings: BaseSettings) -> tuple[dict[str, Any], list[str]]:
    """Settings whose value differs from Scrapy's default, and the names set for this run."""
    changed, overridden = {}, []
    for name in sorted(settings.attributes):
        value = settings[name]
        if isinstance(value, BaseSettings):
            value = value.copy_to_dict()
        if value != getattr(default_settings, name, None):
            changed[name] = _jsonable(value)
        if (settings.getpriority(name) or 0) >= _OVERRIDE_PRIORITY:
            overridden.append(name)
    return changed, overridden


def write(data_dir: Path, report: dict[str, Any]) -> Path:
    """Write *report* (which carries its ``run_id``) atomically; return its path."""
    directory = data_dir / RUNS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{report['run_id']}.json"
    tmp = directory / f".{path.name}.tmp"
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n")
    os.replace(tmp, path)
    return path


def read_all(data_dir: Path) -> Iterable[dict[str, Any]]:
    """Every readable report, newest first."""
    directory = data_dir / RUNS_DIR
    if not directory.is_dir():
        return []
    reports = []
    for path in sorted(directory.glob("*.json"), reverse=True):
        try:
            reports.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return reports

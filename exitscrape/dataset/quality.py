"""Quality gates: checks a crawl must pass before its tables are published.

Pure: the inputs are the crawl's assembled tables, the previous version's programmes (if any),
the crawl's finish reason and the thresholds; the output is one :class:`GateResult` per gate,
with the figures it judged. The thresholds are settings (:class:`Thresholds`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, NamedTuple

import pyarrow as pa

from exitscrape.dataset.assemble import Tables
from exitscrape.dataset.records import CONTENT_FIELDS
from exitscrape.dataset.wording import plural

#: Programme columns whose coverage is watched: the content fields and the categories.
COVERAGE_FIELDS = (*CONTENT_FIELDS, "settings", "ideologies", "regions")
_SLICE = 1000


class Bound(NamedTuple):
    """A bound on a crawl (exitscrape/settings.py): what it is, its setting, its unit."""

    what: str
    setting: str
    unit: str


#: The bounds, by the finish reason of a crawl that reached one: Scrapy's close-spider limits,
#: exitscrape's depth middleware and the spider's cap on links per page.
BOUNDS = {
    "closespider_pagecount": Bound("page budget", "CLOSESPIDER_PAGECOUNT", "responses"),
    "closespider_timeout": Bound("wall-time limit", "CLOSESPIDER_TIMEOUT", "seconds"),
    "depth_limit": Bound("depth limit", "DEPTH_LIMIT", "links from the start page"),
    "links_per_page": Bound(
        "cap on links per page", "EXITSCRAPE_MAX_LINKS_PER_PAGE", "links on one page"
    ),
}


@dataclass(frozen=True)
class Thresholds:
    """What the gates allow. Each is a setting (``-s EXITSCRAPE_GATE_...``, see
    :meth:`from_settings`); the defaults are here."""

    #: Fewest programmes a usable crawl can have (the site lists dozens).
    min_programmes: int = 1
    #: A crawl must find at least this share of the previous version's programmes: the site
    #: shrinking by a fifth at once is far likelier a broken crawl than real removals.
    min_programme_ratio: float = 0.8
    #: A field filled for at least this share of programmes last time is watched for collapse...
    coverage_baseline: float = 0.5
    #: ...and must stay filled for at least this share of its previous coverage (0.7: a field
    #: filled for 90% of programmes fails the gate below 63%), which catches a broken extraction.
    min_coverage_ratio: float = 0.7
    #: Largest share of the pages met that may fail (404, 5xx after retries, timeouts, too
    #: large): a few broken links are normal, a quarter of the site failing is not.
    max_failed_share: float = 0.25
    #: The crawl's bounds, by setting (see :data:`BOUNDS`): the finish_reason gate names the one
    #: a crawl reached.
    bounds: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        """Thresholds from Scrapy settings (``EXITSCRAPE_GATE_*``), else the defaults; a value
        that is not one raises :class:`ValueError` naming the setting."""
        values: dict[str, Any] = {
            name: threshold_value(setting, settings.get(setting))
            for name, setting in THRESHOLD_SETTINGS.items()
            if settings.get(setting) is not None
        }
        bounds = {bound.setting: settings.getfloat(bound.setting) for bound in BOUNDS.values()}
        return cls(**values, bounds=bounds)


#: The setting of each threshold.
THRESHOLD_SETTINGS = {
    "min_programmes": "EXITSCRAPE_GATE_MIN_PROGRAMMES",
    "min_programme_ratio": "EXITSCRAPE_GATE_MIN_PROGRAMME_RATIO",
    "coverage_baseline": "EXITSCRAPE_GATE_COVERAGE_BASELINE",
    "min_coverage_ratio": "EXITSCRAPE_GATE_MIN_COVERAGE_RATIO",
    "max_failed_share": "EXITSCRAPE_GATE_MAX_FAILED_SHARE",
}


def threshold_value(setting: str, value: object) -> int | float:
    """The value of the threshold *setting* given as *value* (a number, or its text, as ``-s``
    gives it); :class:`ValueError` saying what the setting takes when it is not one."""
    name = next(name for name, known in THRESHOLD_SETTINGS.items() if known == setting)
    whole = isinstance(next(f.default for f in fields(Thresholds) if f.name == name), int)
    expected = "a whole number, 0 or more" if whole else "a share between 0 and 1 (e.g. 0.25)"
    try:
        number = float(str(value).strip())
        if not (number >= 0 and (number.is_integer() if whole else number <= 1)):
            raise ValueError
    except ValueError:
        raise ValueError(f"{setting} expects {expected}") from None
    return int(number) if whole else number


@dataclass
class GateResult:
    gate: str
    passed: bool
    message: str
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def coverage(programmes: pa.Table) -> dict[str, float]:
    """Share of programmes with each watched field filled (not null, not an empty list)."""
    rows = programmes.num_rows
    result = {}
    for name in COVERAGE_FIELDS:
        if name not in programmes.schema.names:
            continue
        column = programmes.column(name)
        filled = sum(  # a slice at a time: the descriptions of 10,000 programmes take 35 MB
            1
            for start in range(0, rows, _SLICE)
            for value in column.slice(start, _SLICE).to_pylist()
            if value
        )
        result[name] = round(filled / rows, 4) if rows else 0.0
    return result


def _finish_reason(reason: str, limits: Thresholds) -> GateResult:
    figures: dict[str, Any] = {"finish_reason": reason}
    if reason == "finished":
        return GateResult("finish_reason", True, "the crawl finished", figures)
    bound = BOUNDS.get(reason)
    if bound is None:
        return GateResult("finish_reason", False, f"the crawl did not finish ({reason})", figures)
    limit = limits.bounds.get(bound.setting)
    figures.update(setting=bound.setting, limit=limit)
    value = f" = {limit:g} {bound.unit}" if limit is not None else ""
    return GateResult(
        "finish_reason",
        False,
        f"the crawl stopped at its {bound.what} ({bound.setting}{value}): a crawler trap "
        "(a link generator, a calendar), or a site far larger than before",
        figures,
    )


def _programme_count(count: int, previous: int | None, limits: Thresholds) -> GateResult:
    floor = limits.min_programmes
    if previous:
        floor = max(floor, math.ceil(round(previous * limits.min_programme_ratio, 6)))
    figures = {
        "programmes": count,
        "previous": previous,
        "minimum": floor,
        "min_programme_ratio": limits.min_programme_ratio,
    }
    if count >= floor:
        return GateResult("programme_count", True, plural(count, "programme"), figures)
    against = (
        f" ({limits.min_programme_ratio:.0%} of the previous version's {previous})"
        if previous
        else ""
    )
    return GateResult(
        "programme_count",
        False,
        f"{plural(count, 'programme')}, fewer than the minimum of {floor}{against}",
        figures,
    )


def _field_coverage(
    now: dict[str, float], before: dict[str, float] | None, limits: Thresholds
) -> GateResult:
    collapsed = {}
    for name, share in (before or {}).items():
        current = now.get(name, 0.0)
        if share >= limits.coverage_baseline and current < share * limits.min_coverage_ratio:
            collapsed[name] = {"previous": share, "now": current}
    figures = {"coverage": now, "previous": before, "collapsed": collapsed}
    if not collapsed:
        return GateResult("field_coverage", True, "no field's coverage collapsed", figures)
    detail = ", ".join(
        f"{name} {c['previous']:.0%} -> {c['now']:.0%}" for name, c in collapsed.items()
    )
    return GateResult(
        "field_coverage",
        False,
        f"coverage collapsed (below {limits.min_coverage_ratio:.0%} of the previous "
        f"version's): {detail}",
        figures,
    )


def _failed_pages(pages: pa.Table, limits: Thresholds) -> GateResult:
    kinds = pages.column("kind").to_pylist()
    failed = kinds.count("failed")
    share = round(failed / len(kinds), 4) if kinds else 0.0
    figures = {
        "failed": failed,
        "pages": len(kinds),
        "share": share,
        "max_failed_share": limits.max_failed_share,
    }
    passed = share <= limits.max_failed_share
    message = f"{failed} of {plural(len(kinds), 'page')} failed ({share:.0%})"
    if not passed:
        message += f", more than the maximum of {limits.max_failed_share:.0%}"
    return GateResult("failed_pages", passed, message, figures)


def check(
    tables: Tables,
    previous: pa.Table | None,
    finish_reason: str,
    limits: Thresholds,
) -> list[GateResult]:
    """Every gate's result for a crawl; *previous* is the latest version's programmes."""
    return [
        _finish_reason(finish_reason, limits),
        _programme_count(
            tables.programmes.num_rows,
            previous.num_rows if previous is not None else None,
            limits,
        ),
        _field_coverage(
            coverage(tables.programmes),
            coverage(previous) if previous is not None else None,
            limits,
        ),
        _failed_pages(tables.pages, limits),
    ]

"""Quality gates: the pure checks, and a crawl they stop (exit 3) unless forced."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa
import pytest
from scrapy.settings import Settings

from exitscrape.dataset.assemble import Tables
from exitscrape.dataset.quality import Thresholds, check, coverage
from exitscrape.dataset.schema import PAGES, PROGRAMMES
from exitscrape.dataset.store import DatasetStore
from exitscrape.snapshot.server import SNAPSHOT_DIR
from tests.conftest import EXPECTED, FaultServer, crawl


def programmes(count: int, **fields: object) -> pa.Table:
    rows = [
        {"programme_id": f"p{i}", "name": f"P{i}", "country": "Norway", **fields}
        for i in range(count)
    ]
    return pa.Table.from_pylist(rows, schema=PROGRAMMES)


def tables(prog: pa.Table, pages_ok: int = 10, pages_failed: int = 0) -> Tables:
    kinds = ["other"] * pages_ok + ["failed"] * pages_failed
    pages = pa.Table.from_pylist(
        [{"url": f"http://x/{i}", "kind": k} for i, k in enumerate(kinds)], schema=PAGES
    )
    return Tables(programmes=prog, pages=pages, digest="d", warnings=[])


def results(*args: object, **kwargs: object) -> dict[str, object]:
    return {gate.gate: gate for gate in check(*args, **kwargs)}  # type: ignore[arg-type]


def test_all_gates_pass_for_a_crawl_like_the_previous_one() -> None:
    now = tables(programmes(10, organisation="Org"))
    gates = results(now, programmes(10, organisation="Org"), "finished", Thresholds())
    assert [g.passed for g in gates.values()] == [True] * 4
    assert set(gates) == {"finish_reason", "programme_count", "field_coverage", "failed_pages"}


def test_first_crawl_has_only_the_absolute_floor() -> None:
    gates = results(tables(programmes(1)), None, "finished", Thresholds())
    assert gates["programme_count"].passed
    gates = results(tables(programmes(2)), None, "finished", Thresholds(min_programmes=3))
    assert not gates["programme_count"].passed
    assert gates["programme_count"].figures["minimum"] == 3


@pytest.mark.parametrize(("count", "passed"), [(8, True), (7, False)])
def test_programme_count_against_the_previous_version(count: int, passed: bool) -> None:
    gates = results(tables(programmes(count)), programmes(10), "finished", Thresholds())
    gate = gates["programme_count"]
    assert gate.passed is passed
    assert gate.figures == {
        "programmes": count,
        "previous": 10,
        "minimum": 8,
        "min_programme_ratio": 0.8,
    }
    if not passed:
        assert "7 programmes" in gate.message and "minimum of 8" in gate.message


def test_a_collapsed_field_fails_but_a_rarely_filled_one_may_vanish() -> None:
    before = pa.concat_tables(
        [programmes(9, organisation="Org", target_audience="Men"), programmes(1)]
    )
    # organisation 90% -> 50% collapses; target_audience was 90% too and stays.
    now = pa.concat_tables(
        [
            programmes(5, organisation="Org", target_audience="Men"),
            programmes(5, target_audience="Men"),
        ]
    )
    gate = results(tables(now), before, "finished", Thresholds())["field_coverage"]
    assert not gate.passed
    assert gate.figures["collapsed"] == {"organisation": {"previous": 0.9, "now": 0.5}}
    assert "organisation 90% -> 50%" in gate.message

    rare = pa.concat_tables([programmes(4, organisation="Org"), programmes(6)])
    gate = results(tables(programmes(10)), rare, "finished", Thresholds())["field_coverage"]
    assert gate.passed  # 40% is below the 50% baseline: not watched


def test_coverage_counts_empty_lists_as_unfilled() -> None:
    table = pa.concat_tables([programmes(1, objectives=["a"]), programmes(3, objectives=[])])
    assert coverage(table)["objectives"] == 0.25
    assert coverage(table)["name"] == 1.0


def test_failed_share_and_finish_reason() -> None:
    gates = results(tables(programmes(3), 6, 4), None, "shutdown", Thresholds())
    assert not gates["failed_pages"].passed
    assert gates["failed_pages"].figures["share"] == 0.4
    assert "4 of 10 pages failed (40%)" in gates["failed_pages"].message
    assert not gates["finish_reason"].passed
    assert gates["finish_reason"].figures == {"finish_reason": "shutdown"}
    gates = results(tables(programmes(3), 8, 2), None, "finished", Thresholds())
    assert gates["failed_pages"].passed and gates["finish_reason"].passed


def test_a_crawl_stopped_by_a_bound_names_the_bound_and_its_setting() -> None:
    limits = Thresholds(bounds={"DEPTH_LIMIT": 20.0, "CLOSESPIDER_PAGECOUNT": 5000.0})
    gate = results(tables(programmes(3)), None, "depth_limit", limits)["finish_reason"]
    assert not gate.passed
    assert gate.message.startswith(
        "the crawl stopped at its depth limit (DEPTH_LIMIT = 20 links from the start page): "
    )
    assert gate.figures == {"finish_reason": "depth_limit", "setting": "DEPTH_LIMIT", "limit": 20}
    gate = results(tables(programmes(3)), None, "closespider_pagecount", limits)["finish_reason"]
    assert "page budget (CLOSESPIDER_PAGECOUNT = 5000 responses)" in gate.message


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("EXITSCRAPE_GATE_MAX_FAILED_SHARE", "0.5", 0.5),
        ("EXITSCRAPE_GATE_MAX_FAILED_SHARE", 1, 1.0),
        ("EXITSCRAPE_GATE_MIN_PROGRAMMES", "3", 3),
        ("EXITSCRAPE_GATE_MAX_FAILED_SHARE", "lots", "a share between 0 and 1"),
        ("EXITSCRAPE_GATE_MIN_COVERAGE_RATIO", "-0.1", "a share between 0 and 1"),
        ("EXITSCRAPE_GATE_MIN_PROGRAMMES", "1.5", "a whole number, 0 or more"),
        ("EXITSCRAPE_GATE_MIN_PROGRAMMES", "nan", "a whole number, 0 or more"),
    ],
)
def test_thresholds_are_read_or_refused_naming_the_setting(setting, value, expected) -> None:
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=f"^{setting} expects {expected}"):
            Thresholds.from_settings(Settings({setting: value}))
    else:
        thresholds = Thresholds.from_settings(Settings({setting: value}))
        assert expected in asdict(thresholds).values()


def test_failing_gate_exits_3_publishes_nothing_and_force_publishes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = DatasetStore(data)
    with FaultServer(SNAPSHOT_DIR) as server:
        assert crawl(server.url, data).returncode == 0
        (v1,) = store.versions()
        lost = [programme["paths"][0] for programme in EXPECTED if len(programme["paths"]) == 1]
        for path in lost[:3]:
            server.statuses[path] = [404] * 3
        stopped = crawl(server.url, data)
        assert stopped.returncode == 3, stopped.stderr
        assert store.versions() == [v1]
        assert "quality gate programme_count failed: 4 programmes" in stopped.stderr
        assert "minimum of 6" in stopped.stderr and "--force" in stopped.stderr

        for path in lost[:3]:
            server.statuses[path] = [404] * 3
        forced = crawl(server.url, data, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "published despite" in forced.stdout
    assert store.versions()[0] == v1
    v2 = store.versions()[1]
    assert store.manifest(v2)["forced"] == ["programme_count"]
    assert store.read("programmes", v2).num_rows == 4
    reports = [json.loads(p.read_text()) for p in sorted((data / "runs").glob("*.json"))]
    assert [r["outcome"] for r in reports] == ["published", "gate_failed", "published"]
    assert reports[1]["version"] is None and "programme_count" in reports[1]["reason"]
    assert reports[2]["forced"] == ["programme_count"] and reports[2]["version"] == v2

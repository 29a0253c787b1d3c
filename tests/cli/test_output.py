"""Terminal injection: whatever a data dir holds (a version written by an older exitscrape, a
planted run report or release registry), `show`, `diff`, `runs` and `versions` print no control
character; their --json output escapes them and reads back as the exact data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from exitscrape.cli import main
from exitscrape.cli.output import json_text, one_line, safe
from exitscrape.dataset.store import DatasetStore
from exitscrape.release.build import REGISTRY
from tests.conftest import ESCAPES, one_programme_tables

#: What an attacker sends: control sequences, a carriage return and a line break that would
#: overwrite or forge a line of output.
HOSTILE = f"Evil{ESCAPES}\r\x1b[1AALL CHECKS PASSED\nok\x85\x7f"
SENT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    data = tmp_path_factory.mktemp("planted") / "data"
    store = DatasetStore(data)
    fields = {"name": HOSTILE, "organisation": HOSTILE, "objectives": [HOSTILE]}
    store.publish(one_programme_tables(**fields, description=f"a {HOSTILE}\n\nb"), "1", {})
    store.publish(one_programme_tables(**fields, description=f"a {HOSTILE} c\n\nb"), "2", {})
    versions = store.versions()
    (data / "runs").mkdir()
    run = {"run_id": HOSTILE, "outcome": "failed", "reason": HOSTILE, "duration_seconds": HOSTILE}
    (data / "runs" / "1.json").write_text(json.dumps(run))
    registry = {"releases": [{"release": HOSTILE, "dataset_version": versions[0]}]}
    (data / REGISTRY).write_text(json.dumps(registry))
    return data, versions


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert not SENT.search(out), out  # nothing a terminal would act on, newlines aside
    return out


@pytest.mark.parametrize(
    "args",
    [("show", "p-x"), ("diff", "VERSION-1", "VERSION-2"), ("runs",), ("versions",)],
    ids=lambda a: a[0],
)
def test_human_output_shows_control_characters_as_escapes(planted, capsys, args) -> None:
    data, (first, second) = planted
    args = tuple(a.replace("VERSION-1", first).replace("VERSION-2", second) for a in args)
    out = cli(capsys, *args, "--data-dir", str(data))
    assert "Evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b2J\\x0d\\x1b[1AALL CHECKS PASSED" in out
    assert not any(line.startswith("ALL CHECKS PASSED") for line in out.splitlines())


@pytest.mark.parametrize(
    "args",
    [("show", "p-x"), ("diff", "VERSION-1", "VERSION-2"), ("runs",), ("versions",)],
    ids=lambda a: a[0],
)
def test_json_output_escapes_them_and_keeps_the_data(planted, capsys, args) -> None:
    data, (first, second) = planted
    args = tuple(a.replace("VERSION-1", first).replace("VERSION-2", second) for a in args)
    document = json.loads(cli(capsys, *args, "--data-dir", str(data), "--json"))
    assert any(HOSTILE in text for text in strings(document))  # the exact value, read back


def strings(value: object) -> set[str]:
    """Every string in a JSON document, keys and values, however deep."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return {s for k, v in value.items() for s in strings(k) | strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in strings(v)}
    return set()


def test_the_helpers() -> None:
    assert safe("a\nb\tc\x1b\r") == "a\nb\tc\\x1b\\x0d"
    assert one_line("a\nb\t\x9b") == "a\\x0ab\\x09\\x9b"
    assert json.loads(json_text({"k": HOSTILE})) == {"k": HOSTILE}
    assert not SENT.search(json_text({"k": HOSTILE}).replace("\n", ""))

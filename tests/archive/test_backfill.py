"""``exitscrape backfill``: the site's history from a real archive (pywb), over loopback HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import exitscrape
from exitscrape.archive.backfill import LOCK_NAME, STATE_FILE
from exitscrape.archive.replay import format_timestamp
from exitscrape.cli import main
from exitscrape.dataset.store import DatasetStore
from exitscrape.extensions.runlock import RunLock
from tests.archive.conftest import (
    CHANGED,
    FIRST,
    FORBIDDEN,
    LOOP,
    MENTORING,
    NEVER,
    REDIRECT,
    RENAMED,
    SECOND,
    THIRD,
)
from tests.archive.pywb_server import SITE, ArchiveFront
from tests.conftest import FAST, REPO, cli_on_a_terminal, one_programme_tables, run_cli

FIRST_TS, SECOND_TS, THIRD_TS = map(format_timestamp, (FIRST, SECOND, THIRD))
#: Versions of a backfill are named by their capture time.
FIRST_V, SECOND_V, THIRD_V = (t.strftime("%Y%m%dT%H%M%SZ") for t in (FIRST, SECOND, THIRD))
MENTORING_ID = "mentoring-programme-no"


def backfill_args(front: ArchiveFront, data: Path, *extra: str) -> list[str]:
    return ["backfill", "--archive", front.archive, "--from", "2019", "--data-dir", str(data),
            *FAST, *extra]  # fmt: skip


def state(data: Path) -> dict:
    return json.loads((data / STATE_FILE).read_text())


def test_a_backfill_stops_at_a_failing_capture_resumes_and_builds_the_history(
    front: ArchiveFront, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    # At SECOND the archive holds no capture of two programmes' pages: too few programmes
    # against the version before, the quality gate stops the crawl, and the backfill with it.
    for page in (CHANGED, "exit-ndash-germany.html"):
        front.faults[f"{SECOND_TS}id_/{SITE}{page}"] = [(404, {}, b"not in this collection")]
    result = run_cli(*backfill_args(front, data))
    assert result.returncode == 3, result.stderr
    assert f"2019-06-01 12:00:00 UTC  published {FIRST_V} (7 programmes)" in result.stdout
    assert "quality gate programme_count FAILED" in result.stderr
    assert "stopped at 2021-03-01 12:00:00 UTC (2 of 3)" in result.stderr
    assert "rerun the same command to resume from it, with --force" in result.stderr
    assert DatasetStore(data).versions() == [FIRST_V]
    assert state(data)["plan"] == [FIRST_TS, SECOND_TS, THIRD_TS]
    assert state(data)["done"] == {FIRST_TS: FIRST_V}

    front.reset()  # the archive answers again: the same command resumes, on a terminal
    status, stdout, terminal = cli_on_a_terminal(*backfill_args(front, data))
    assert status == 0, terminal
    assert "backfill: resuming: 1 of 3 capture times done" in stdout
    assert f"2021-03-01 12:00:00 UTC  published {SECOND_V} (6 programmes)" in stdout
    assert f"2023-01-01 12:00:00 UTC  published {THIRD_V} (6 programmes)" in stdout
    assert "backfill done: 3 capture times crawled, 3 versions published" in stdout
    assert "\r\x1b[Kbackfill [################........] 2/3 capture times; crawling as of" in (
        terminal
    )
    assert not any(FIRST_TS in path for _, _, path, _ in front.log)  # not crawled again
    assert state(data)["done"] == {FIRST_TS: FIRST_V, SECOND_TS: SECOND_V, THIRD_TS: THIRD_V}

    store = DatasetStore(data)
    assert store.versions() == [FIRST_V, SECOND_V, THIRD_V] and store.latest() == THIRD_V
    for version, when in zip(store.versions(), (FIRST, SECOND, THIRD), strict=True):
        assert store.manifest(version)["as_of"] == when.isoformat()

    history = exitscrape.load("history", data_dir=data)
    changes = {
        (row.version, row.programme_id): (row.change, list(row.changed_columns))
        for row in history.itertuples()
        if row.version != FIRST_V
    }
    assert changes == {
        (SECOND_V, "healthy-identity-intervention-hii-gb"): ("changed", ["organisation"]),
        (SECOND_V, "research-and-intervention-on-violent-extremism-rive-fr"): ("removed", []),
        (THIRD_V, MENTORING_ID): ("renamed", ["name"]),
    }
    # The renamed programme keeps its id in the published Parquet itself.
    third = exitscrape.load(version=THIRD_V, data_dir=data).set_index("programme_id")
    assert third.loc[MENTORING_ID, "name"] == RENAMED
    assert (
        exitscrape.load(version=SECOND_V, data_dir=data)
        .set_index("programme_id")
        .loc[MENTORING_ID, "name"]
        == MENTORING
    )

    # The third capture, as the live crawl would meet it: robots.txt as archived, a captured
    # redirect followed on the site, a page never archived, a capture redirecting to itself.
    pages = exitscrape.load("pages", version=THIRD_V, data_dir=data).set_index("url")
    assert pages.loc[SITE + FORBIDDEN, ["kind", "error"]].tolist() == [
        "other",
        "disallowed by robots.txt",
    ]
    assert pages.loc[SITE + REDIRECT, "final_url"] == SITE + "in-europe.html"
    assert pages.loc[SITE + NEVER, ["kind", "error"]].tolist() == [
        "failed",
        f"not archived: {front.archive} holds no capture of it",
    ]
    # pywb will not replay a capture redirecting to itself (400 "Self Redirect").
    assert pages.loc[SITE + LOOP, ["kind", "error"]].tolist() == [
        "failed",
        "archive: HTTP 400, not a capture of the page",
    ]
    assert not any(f"{THIRD_TS}id_/{SITE}{FORBIDDEN}" in p for _, _, p, _ in front.log)

    # versions, diff and release read across the backfill's versions.
    diff = json.loads(run_cli("diff", SECOND_V, THIRD_V, "--data-dir", str(data), "--json").stdout)
    assert {p: list(fields) for p, fields in diff["changed"].items()} == {MENTORING_ID: ["name"]}
    listed = run_cli("versions", "--data-dir", str(data)).stdout
    assert "as of (UTC)" in listed and "2023-01-01 12:00:00" in listed
    released = run_cli("release", "--out", str(tmp_path / "release"), "--data-dir", str(data))
    assert released.returncode == 0, released.stderr
    card = (tmp_path / "release" / "README.md").read_text()
    assert f"**Read from a web archive**, not the live site: `{front.archive}`" in card

    # Crawled again as of the third capture, the site is unchanged: the digest compared is the
    # crawl's own, before the renamed programme's id was carried.
    again = run_cli("crawl", "--archive", front.archive, "--at", THIRD_TS, "--data-dir",
                    str(data), *FAST)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert f"unchanged: the latest version ({THIRD_V}) already holds this data" in again.stdout
    assert DatasetStore(data).versions() == [FIRST_V, SECOND_V, THIRD_V]
    done = run_cli(*backfill_args(front, data))
    assert done.returncode == 0 and "already done (3 capture times)" in done.stdout


def _ignoring_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("backgrounded", [False, True], ids=["terminal", "background-job"])
def test_ctrl_c_mid_crawl_then_the_same_command_finishes_the_backfill(
    front: ArchiveFront, tmp_path: Path, backgrounded: bool
) -> None:
    """Ctrl-C stops the backfill and its crawl; so it does when the backfill ignores SIGINT (a
    background job of a script: the crawl still handles it, and the backfill says so)."""
    data = tmp_path / "data"
    args = [*backfill_args(front, data, "--to", "2021-12"), "--from", "2020"]  # SECOND only
    front.hold = f"{SECOND_TS}id_/"  # the crawl waits in the archive
    proc = subprocess.Popen(
        [sys.executable, "-m", "exitscrape", *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=_ignoring_sigint if backgrounded else None,
    )  # fmt: skip
    try:
        assert front.holding.wait(timeout=120), proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: the backfill and its crawl
        _, stderr = proc.communicate(timeout=120)
    finally:
        front.release.set()
    assert proc.returncode == 130, stderr
    assert "interrupted at 2021-03-01 12:00:00 UTC (1 of 1); rerun the same command" in stderr
    assert DatasetStore(data).versions() == []
    assert state(data)["plan"] == [SECOND_TS] and state(data)["done"] == {}

    front.reset()
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert "resuming: 0 of 1 capture times done" in result.stdout
    store = DatasetStore(data)
    assert store.versions() == [SECOND_V] and store.latest() == SECOND_V
    assert state(data)["done"] == {SECOND_TS: SECOND_V}
    assert not list(data.glob(".tmp-*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--every", "3x"], "--every: not a period: '3x'"),
        (["--to", "2018"], "--to (2018-12-31 23:59:59 UTC) is before --from"),
        (["--start-url", "ftp://site/"], "--start-url: the start URL must be an http(s) URL"),
        (["-s", "DOWNLOAD_DELAY"], "-s expects NAME=VALUE"),
    ],
)
def test_bad_usage_is_refused_clearly(
    front: ArchiveFront, tmp_path: Path, capsys: pytest.CaptureFixture, args: list, message: str
) -> None:
    assert main([*backfill_args(front, tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert front.log == [] and not (tmp_path / STATE_FILE).exists()


def test_a_data_dir_it_cannot_take_is_refused(
    front: ArchiveFront, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    store = DatasetStore(tmp_path)
    tables = one_programme_tables()
    live = store.publish(tables, "digest", {})  # a live crawl's version: named now
    assert main(backfill_args(front, tmp_path)) == 2
    assert f"holds version {live}, newer than the backfill's first capture time" in (
        capsys.readouterr().err
    )
    assert store.versions() == [live] and not (tmp_path / STATE_FILE).exists()
    planted = tmp_path / "planted"
    (planted / "99990101T000000Z").mkdir(parents=True)
    (planted / "99990101T000000Z" / "manifest.json").write_text("{not json")
    assert main(backfill_args(front, planted)) == 2
    assert "holds version 99990101T000000Z, newer than" in capsys.readouterr().err

    other = tmp_path / "other"
    assert main([*backfill_args(front, other), "--to", "2019-12", "--dry-run"]) == 0
    assert capsys.readouterr().out == "2019-06-01 12:00:00 UTC\n"
    assert not (other / STATE_FILE).exists()
    (other / STATE_FILE).write_text(
        json.dumps({"format": 1, "spec": {"archive": front.archive, "start_url": SITE,
                    "start": "20190101000000", "end": None, "every": "1y"},
                    "plan": [FIRST_TS, SECOND_TS], "planned_at": "2026-01-01", "done": {}})
    )  # fmt: skip
    assert main(backfill_args(front, other)) == 2
    assert "another backfill is unfinished" in capsys.readouterr().err


@pytest.mark.parametrize(
    "planted",
    ["garbage", "types", "symlink"],
)
def test_a_hostile_state_file_is_refused_and_nothing_it_names_is_touched(
    front: ArchiveFront, tmp_path: Path, capsys: pytest.CaptureFixture, planted: str
) -> None:
    data, victim = tmp_path / "data", tmp_path / "victim.txt"
    data.mkdir()
    victim.write_text("precious\n")
    path = data / STATE_FILE
    if planted == "garbage":
        path.write_bytes(b"\xff[" * 1000)
    elif planted == "types":
        spec = {"archive": front.archive, "start_url": SITE, "start": "20190101000000",
                "end": None, "every": "1m"}  # fmt: skip
        document = {"format": 1, "spec": spec, "plan": ["../../etc"], "done": {}}
        path.write_text(json.dumps({**document, "planned_at": 1}))
    else:
        path.symlink_to(victim)
    assert main(backfill_args(front, data)) == 2
    assert "is not a readable backfill state" in capsys.readouterr().err
    assert victim.read_text() == "precious\n"
    assert front.log == [] and DatasetStore(data).versions() == []


def test_a_symlink_planted_at_the_backfill_lock_is_never_followed(
    front: ArchiveFront, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data, victim = tmp_path / "data", tmp_path / "victim.txt"
    data.mkdir()
    victim.write_text("precious\n")
    (data / LOCK_NAME).symlink_to(victim)
    assert main(backfill_args(front, data)) == 1
    assert f"cannot use the data dir {data}" in capsys.readouterr().err
    assert victim.read_text() == "precious\n" and front.log == []


def test_one_backfill_at_a_time(
    front: ArchiveFront, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    with RunLock(tmp_path, LOCK_NAME):
        assert main(backfill_args(front, tmp_path)) == 4
    assert f"another backfill is using {tmp_path}" in capsys.readouterr().err
    assert front.log == []


def test_nothing_to_backfill_or_no_cdx_api_is_a_clear_failure(
    front: ArchiveFront, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main([*backfill_args(front, tmp_path), "--from", "2030"]) == 1
    assert "lists no capture of a page of https://www.exit-practices.eu/ from 2030-01-01" in (
        capsys.readouterr().err
    )
    unreachable = ["--archive", "http://127.0.0.2:9/coll/", "-s", "EXITSCRAPE_ARCHIVE_BACKOFF=0"]
    assert main([*backfill_args(front, tmp_path), *unreachable]) == 1
    assert "cannot read the CDX API at http://127.0.0.2:9/coll/cdx" in capsys.readouterr().err
    assert not (tmp_path / STATE_FILE).exists()

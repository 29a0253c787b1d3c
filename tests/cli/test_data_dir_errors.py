"""What the commands say about a data dir or version argument that is wrong: one clean line and
exit 2, saying what is wrong and, where it can be repaired, how."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exitscrape.cli import main
from exitscrape.dataset.store import DatasetStore
from tests.conftest import run_cli


@pytest.fixture
def data_dir(snapshot_versions: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(snapshot_versions, tmp_path / "data"))


def error_of(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Exit status and output (stderr, then stdout) of ``exitscrape ARGS``, in this process."""
    try:
        code = main(list(args))
    except SystemExit as exit:  # argparse's usage errors
        code = int(exit.code or 0)
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_a_data_dir_that_is_a_file_or_empty(tmp_path: Path, capsys) -> None:
    file = tmp_path / "file"
    file.write_text("not a dir")
    for command in (["versions"], ["runs"], ["verify"], ["show", "x"], ["diff", "a", "b"]):
        code, err = error_of(capsys, *command, "--data-dir", str(file))
        assert code == 2 and f"{file} is a file, not a directory" in err, command
        code, err = error_of(capsys, *command, "--data-dir", "")
        assert code == 2 and "--data-dir: an empty path" in err, command
    crawl = run_cli("crawl", "--snapshot", "--data-dir", str(file))
    assert crawl.returncode == 2 and "is a file, not a directory" in crawl.stderr
    assert "Traceback" not in crawl.stderr and file.read_text() == "not a dir"


def test_runs_usage(tmp_path: Path, capsys) -> None:
    for limit in ("0", "-3", "x"):
        code, err = error_of(capsys, "runs", "-n", limit, "--data-dir", str(tmp_path))
        assert code == 2 and "-n/--limit" in err, limit
    code, err = error_of(capsys, "runs", "--data-dir", str(tmp_path / "nonexistent"))
    assert code == 2 and "no data dir" in err


def test_latest_missing_or_wrong_says_how_to_repair(data_dir: Path, capsys) -> None:
    newest = DatasetStore(data_dir).versions()[-1]
    (data_dir / "LATEST").unlink()
    code, err = error_of(capsys, "show", "hii", "--data-dir", str(data_dir))
    assert code == 2
    assert err.startswith(f"exitscrape: {data_dir / 'LATEST'} is missing, though {data_dir} holds")
    assert (
        f"echo {newest} > {data_dir / 'LATEST'}" in err
        and "run `exitscrape crawl` first" not in err
    )
    (data_dir / "LATEST").write_text("20000101T000000Z\n")
    code, err = error_of(capsys, "verify", "--all", "--data-dir", str(data_dir))
    assert code == 5 and "DAMAGED  LATEST: names 20000101T000000Z, which is not a version" in err
    code, err = error_of(capsys, "versions", "--data-dir", str(data_dir))
    assert code == 0 and "LATEST names 20000101T000000Z, which is not a version" in err


def test_ambiguous_and_unknown_versions_differ(data_dir: Path, capsys) -> None:
    old, new = DatasetStore(data_dir).versions()
    code, err = error_of(capsys, "diff", old[:4], "latest", "--data-dir", str(data_dir))
    assert code == 2 and f"ambiguous: 2 versions start with it ({old}, {new})" in err
    code, err = error_of(capsys, "diff", "1999", "latest", "--data-dir", str(data_dir))
    assert code == 2 and "no version '1999'" in err and "is ambiguous" not in err
    code, err = error_of(capsys, "show", "hii", "--version", "", "--data-dir", str(data_dir))
    assert code == 2 and "an empty version" in err

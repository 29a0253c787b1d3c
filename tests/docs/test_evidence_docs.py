"""The evidence example of docs/researchers.md, run as written on crawled data."""

from __future__ import annotations

import shutil

from tests.docs.test_researchers import example, run


def test_the_evidence_example_finds_the_page_as_received(
    snapshot_versions, tmp_path, monkeypatch, capsys
) -> None:
    shutil.copytree(snapshot_versions, tmp_path / "datasets" / "exit_programmes")
    monkeypatch.chdir(tmp_path)
    namespace = run(example("evidence"))
    out = capsys.readouterr().out
    assert f"{namespace['programme']['name']}: read from http" in out
    assert "the page as received: True" in out
    assert namespace["html"].startswith(b"<!DOCTYPE html>")

"""notebooks/explore.ipynb runs top to bottom against crawled snapshot data and draws its charts.

``EXITSCRAPE_SAVE_NOTEBOOK=1 pytest tests/test_notebook.py`` also saves the executed notebook
(with the two-version run's outputs) over notebooks/explore.ipynb: how its committed outputs are
refreshed.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbclient
import nbformat
import pytest

from exitscrape.dataset.store import DatasetStore
from tests.conftest import REPO, one_programme_tables

NOTEBOOK = REPO / "notebooks" / "explore.ipynb"


def run_notebook(data_dir: Path, cwd: Path, monkeypatch: pytest.MonkeyPatch):
    """The notebook executed in a kernel that sees EXITSCRAPE_DATA_DIR=data_dir."""
    monkeypatch.setenv("EXITSCRAPE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws PNGs
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return notebook


def outputs(notebook) -> list[dict]:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


def text_of(notebook) -> str:
    parts = []
    for output in outputs(notebook):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_notebook_runs_on_two_versions_and_draws(snapshot_versions, tmp_path, monkeypatch):
    notebook = run_notebook(snapshot_versions, tmp_path, monkeypatch)
    assert not [o for o in outputs(notebook) if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs(notebook)), "no chart drawn"
    text = text_of(notebook)
    assert "7 programmes" in text
    assert "1 added, 0 removed, 1 changed programmes" in text
    assert "research-and-intervention-on-violent-extremism-rive-fr" in text
    assert "Butt & Tuck" in text  # the references section
    assert "Incomplete in the source: the bundled snapshot was rebuilt" in text
    assert 'the description ends mid-sentence ("…The")' in text  # RIVE
    assert "[-National Offender Management Service (NOMS)-]" not in text  # short: old → new
    assert '"National Offender Management Service (NOMS)" → "Her Majesty' in text
    assert "Int16" not in text and "string" in text  # programmes' dtypes
    if os.environ.get("EXITSCRAPE_SAVE_NOTEBOOK"):
        nbformat.write(notebook, NOTEBOOK)


def test_notebook_handles_a_single_sparse_version(tmp_path, monkeypatch):
    """One version, one programme with every optional field empty: no chart or table fails."""
    tables = one_programme_tables()
    DatasetStore(tmp_path / "data").publish(tables, "digest", {})
    notebook = run_notebook(tmp_path / "data", tmp_path, monkeypatch)
    text = text_of(notebook)
    assert "1 programme, " in text and "0 citations" in text
    assert "Only one version so far" in text
    assert "No text known to be incomplete in the source" in text

"""The notebooks are valid and saved without errors (every run); they run top to bottom offline, writing into
a temporary folder (slow tier: `--runslow`)."""
from __future__ import annotations

import os

import pytest

from conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
NAMES = ("01-quickstart", "02-evaluation", "03-retrain")


def run_notebook(name: str, out_dir, timeout: int = 600):
    """Execute a notebook in a kernel that writes its files into `out_dir` (FAZHI_IE_NOTEBOOK_OUT)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    os.environ["FAZHI_IE_NOTEBOOK_OUT"] = str(out_dir)  # the kernel inherits it
    try:
        nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        os.environ.pop("FAZHI_IE_NOTEBOOK_OUT", None)
    return nb


def outputs(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") + str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_valid_and_saved_without_errors(name):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow
def test_quickstart_runs_offline(tmp_path):
    nb = run_notebook("01-quickstart", tmp_path)
    text = outputs(nb)
    assert "Pipeline(engine=" in text and "chengguan-lanzhou-2023" in text and "jinta-2023.html" in text
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the indicator plot and the panel plot
    for written in ("facts.parquet", "facts.csv", "jinta-2023.html", "panel.csv", "panel-wide.dta"):
        assert (tmp_path / written).is_file()


@pytest.mark.slow
def test_evaluation_notebook_runs(tmp_path):
    nb = run_notebook("02-evaluation", tmp_path)
    assert "micro" in outputs(nb)


@pytest.mark.slow
def test_retrain_notebook_runs(tmp_path):
    nb = run_notebook("03-retrain", tmp_path, timeout=900)
    text = outputs(nb)
    assert "rules" in text and ("model after" in text or "rules on the new report" in text)

"""Every notebook of examples/notebooks/ runs top to bottom, on this project's interpreter.

Each is executed with nbclient by a kernel whose kernelspec (in a temporary JUPYTER_PATH)
points at ``sys.executable``, so it imports this checkout's optimlab and not whatever
``python`` is first on the PATH; a probe cell run before the notebook's own cells checks
that. The kernel's working directory and its temporary files (TMPDIR) are in pytest's
tmp_path, so nothing is written into the repository (the test checks that nothing
appeared in the notebooks' folder). A cell that raises fails the test.
The stored notebooks are kept clean (no outputs), and each explains itself in Markdown
and draws at least one figure.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

FOLDER = Path(__file__).resolve().parents[1] / "examples" / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
#: Seconds one cell may take (the longest, a sweep, takes well under 20 s).
CELL_TIMEOUT = 300
#: Run before the notebook's cells: which interpreter, which kernelspec, which folder.
PROBE = """import os, sys
print(sys.executable)
print(os.environ["OPTIMLAB_KERNELSPEC"])
print(os.getcwd())"""


def test_the_notebooks_are_found():
    """The parametrised tests below would pass vacuously on an empty folder."""
    assert len(NOTEBOOKS) >= 2, f"expected notebooks in {FOLDER}; found {NOTEBOOKS}"


def own_kernel(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``python3`` kernelspec running ``sys.executable``, first on JUPYTER_PATH (its
    folder; the kernel says it was started from it); the kernel's temporary files and
    IPython profile under ``root`` too."""
    spec = root / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "optimlab (tests)", "language": "python",
              "env": {"OPTIMLAB_KERNELSPEC": str(spec)}}  # fmt: skip
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(root / "jupyter"))
    for name, folder in (("TMPDIR", "tmp"), ("IPYTHONDIR", "ipython")):
        (root / folder).mkdir()
        monkeypatch.setenv(name, str(root / folder))
    return spec


def outputs(nb) -> list:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_stored_notebook_is_clean_and_explains_itself(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and not outputs(nb), f"{path.name}: stored with outputs; clear them"
    assert all(c.execution_count is None for c in code), f"{path.name}: execution counts"
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert len(markdown) >= 4, f"{path.name}: {len(markdown)} Markdown cells"
    assert any("$" in text for text in markdown), f"{path.name}: no equation in its text"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch, record_property):
    spec = own_kernel(tmp_path, monkeypatch)
    workdir = tmp_path / "work"
    workdir.mkdir()
    before = {p.name for p in FOLDER.iterdir()}
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE))
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )  # fmt: skip
    start = time.perf_counter()
    client.execute()  # CellExecutionError on the first cell that raises
    seconds = time.perf_counter() - start
    record_property("seconds", round(seconds, 2))
    print(f"{path.name}: {seconds:.1f} s")

    executable, kernelspec, cwd = nb.cells[0].outputs[0]["text"].splitlines()
    assert executable == sys.executable
    assert kernelspec == str(spec)
    assert Path(cwd).resolve() == workdir.resolve()
    written = {p.name for p in FOLDER.iterdir()} - before
    # (a new .ipynb is someone adding a notebook meanwhile, not this run writing one)
    assert not {name for name in written if not name.endswith(".ipynb")}, written
    figures = [o for o in outputs(nb) if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} drew no figure"

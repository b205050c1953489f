"""The imports flow one way: data, nn, problems -> optim -> train -> experiments
-> trajectories -> cli."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "optimlab"

# For each package: the optimlab packages it must never import.
FORBIDDEN = {
    "data": {"nn", "optim", "train", "experiments", "cli", "problems", "trajectories"},
    "nn": {"data", "optim", "train", "experiments", "cli", "problems", "trajectories"},
    "problems": {"data", "nn", "optim", "train", "experiments", "cli", "trajectories"},
    "optim": {"data", "train", "experiments", "cli", "problems", "trajectories"},
    "train": {"experiments", "cli", "problems", "trajectories"},
    "experiments": {"cli", "trajectories"},
    "trajectories": {"data", "train", "cli"},
}


def optimlab_imports(path: Path) -> set[str]:
    """The first-level optimlab packages a module imports (``optimlab.nn`` -> ``nn``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "optimlab" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_downstream(package):
    files = sorted((SRC / package).rglob("*.py"))
    assert files, f"no modules under {package}"
    bad = {str(f.relative_to(SRC)): sorted(optimlab_imports(f) & FORBIDDEN[package]) for f in files}
    assert {k: v for k, v in bad.items() if v} == {}


def test_layering_check_sees_a_violation(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from optimlab.train import fit\nimport optimlab.cli\n")
    assert optimlab_imports(module) == {"train", "cli"}


def test_import_is_light():
    code = (
        "import sys, optimlab, optimlab.nn, optimlab.optim, optimlab.data, optimlab.train,"
        " optimlab.problems, optimlab.trajectories;"
        "heavy = [m for m in ('matplotlib', 'torch', 'dask') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

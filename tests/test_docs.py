"""The Python examples of the docs run as written."""

import re
from pathlib import Path

import numpy as np

from optimlab import optim

DOCS = Path(__file__).resolve().parents[1] / "docs"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def test_optimizers_doc_registers_a_working_optimizer():
    blocks = python_blocks(DOCS / "optimizers.md")
    assert len(blocks) == 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/optimizers.md", "exec"), namespace)
    names = {"mysignum", "mysignumw", "demon-mysignum", "lookahead-mysignum"}
    assert names <= set(optim.available())
    from optimlab.optim import search

    assert optim.resolve("mysignum").search == {
        "lr": search.log(1e-5, 1e-1), "momentum": search.log1m(0.5, 0.99)}  # fmt: skip
    model, opt = namespace["model"], namespace["opt"]
    before = model.weight.data.copy()
    model.weight.grad = np.ones_like(before)
    model.bias.grad = np.ones_like(model.bias.data)
    opt.step()
    # First step: decay by lr * wd, then b = 0.1 * g, sign 1, times lr.
    np.testing.assert_allclose(model.weight.data, before * (1 - 1e-3 * 1e-2) - 1e-3, rtol=1e-6)

"""The 2024-26 zoo (issue 18): each name registered with its paper, its reference, its
equations and its compositions, and listed by ``optimlab optimizers`` with its paper."""

from __future__ import annotations

import pytest

from optimlab import optim
from optimlab.cli import main

#: name: (the paper's identifier, the reference class)
ZOO = {
    "signum": ("arXiv:1802.04434", "pytorch_optimizer.SignSGD (4.1)"),
    "signsgd": ("arXiv:1802.04434", "pytorch_optimizer.SignSGD (4.1)"),
    "adafactor": ("arXiv:1804.04235", "torch.optim.Adafactor (torch 2.13)"),
    "laprop": ("arXiv:2002.04839", "pytorch_optimizer.LaProp (4.1)"),
    "mars": ("arXiv:2411.10438", "pytorch_optimizer.MARS (4.1)"),
    "prodigy": ("arXiv:2306.06101", "pytorch_optimizer.Prodigy (4.1)"),
    "dadapt-adam": ("arXiv:2301.07733", "pytorch_optimizer.DAdaptAdam (4.1)"),
    "shampoo": ("arXiv:1802.09568", "pytorch_optimizer.Shampoo (4.1)"),
    "soap": ("arXiv:2409.11321", "pytorch_optimizer.SOAP (4.1)"),
    "kron": ("arXiv:1512.04202", "pytorch_optimizer.Kron (4.1)"),
    "adam-mini": ("arXiv:2406.16793", "pytorch_optimizer.AdamMini (4.1)"),
    "scion": ("arXiv:2502.07529", "pytorch_optimizer.SCION (4.1)"),
    "normuon": ("arXiv:2510.05491", "pytorch_optimizer.NorMuon (4.1)"),
    "adamuon": ("arXiv:2507.11005", "pytorch_optimizer.AdaMuon (4.1)"),
    "sophia": ("arXiv:2305.14342", "pytorch_optimizer.SophiaH (4.1)"),
}
#: The bases Demon cannot take: no momentum (signsgd), none in torch's Adafactor, and
#: SCION's ``momentum`` weighs the new gradient.
NOT_DEMON = {"signsgd", "adafactor", "scion"}


@pytest.mark.parametrize("name", ZOO)
def test_registered_with_paper_reference_equations_and_compositions(name):
    paper, reference = ZOO[name]
    spec = optim.resolve(name)
    assert paper in spec.paper
    assert spec.reference.startswith(reference)
    assert ".. math::" in spec.equations, "the docstring carries the update equations"
    names = set(optim.available())
    assert {f"{name}w", f"lookahead-{name}", f"cautious-{name}"} <= names
    assert (f"demon-{name}" in names) is (name not in NOT_DEMON)


def test_optimizers_lists_the_zoo_with_its_papers(capsys):
    assert main(["optimizers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, (paper, _) in ZOO.items():
        assert name in lines, f"{name} not listed"
        at = lines.index(name)  # the name, its defaults, its paper
        assert paper in lines[at + 2], f"{name}: its paper is not beside it"


@pytest.mark.parametrize("name", ["sophia", "kron", "shampoo", "mars"])
def test_optimizers_name_prints_its_equations_and_reference(name, capsys):
    assert main(["optimizers", name]) == 0
    out = capsys.readouterr().out
    assert f"reference: {ZOO[name][1]}" in out
    assert ".. math::" in out

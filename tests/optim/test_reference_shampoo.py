"""Shampoo and SOAP match pytorch_optimizer 4.1 step by step, in float64.

Shampoo's inverse roots (``compute_power_svd``) are float64 for float64 inputs:
nothing is patched. Two parts of SOAP are, here:

* its QR (``get_orthogonal_matrix_qr`` casts the power iteration to float32): run
  in float64 (a copy of the method without the cast);
* its eigh: ``torch.linalg.eigh`` (MKL) replaced by ``numpy.linalg.eigh``, the
  routine optimlab uses. Eigenvector signs do not matter (the second moment sees
  squares, the rotation back undoes a sign, and Householder QR gives the same Q for
  a column of either sign: ``test_soap_eigenvector_signs_do_not_matter`` runs the
  rows with torch's own eigh). A *degenerate* eigenspace does: a statistic of rank
  ``r < d`` at a parameter's first gradient (a vector with ``precondition_1d``: rank
  1) leaves ``d - r`` eigenvectors to the LAPACK at hand, and Adam's per-coordinate
  second moment in that basis depends on the choice. The same eigh on the same
  matrix (at a first gradient the statistic is made of exact products) picks the
  same basis. What no patch can fix is a QR of a rank-deficient power iteration,
  whose extra columns come from rounding: a parameter whose first gradient falls
  on a precondition step (a late one, at group step 50 with frequency 10) with a
  rank-deficient statistic. The rows avoid it (``precondition_frequency=7`` with
  ``precondition_1d``; ``merge_dims`` on shapes whose merged dimensions have full
  rank at once).
"""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_optimizer as po
import torch
from optim_db_shampoo import CONV_ROWS, CONV_SHAPES, MERGE_SHAPES, ROWS
from pytorch_optimizer.optimizer.soap import SOAP
from reference_harness import PATTERNS, SCALAR_SHAPES, SHAPES, STEPS, TOLERANCE, run_pair


def soap_qr_float64(self, state, max_precondition_dim=10000, merge_dims=False):
    """``SOAP.get_orthogonal_matrix_qr`` with the QR in the statistics' dtype, not float32."""
    original_shape = state["exp_avg_sq"].shape
    permuted_shape = original_shape
    if self.data_format == "channels_last" and len(original_shape) == 4:
        permuted_shape = state["exp_avg_sq"].permute(0, 3, 1, 2).shape
    exp_avg_sq = state["exp_avg_sq"]
    if merge_dims:
        exp_avg_sq = self.merge_dims(exp_avg_sq, max_precondition_dim)
    matrices = []
    for ind, (m, o) in enumerate(zip(state["GG"], state["Q"], strict=True)):
        if len(m) == 0:
            matrices.append([])
            continue
        product = m @ o
        sort_idx = torch.argsort((o * product).sum(dim=0), descending=True)
        exp_avg_sq = exp_avg_sq.index_select(ind, sort_idx)
        q, _ = torch.linalg.qr(product.index_select(1, sort_idx))
        matrices.append(q)
    if merge_dims:
        if self.data_format == "channels_last" and len(original_shape) == 4:
            exp_avg_sq = exp_avg_sq.reshape(permuted_shape).permute(0, 2, 3, 1)
        else:
            exp_avg_sq = exp_avg_sq.reshape(original_shape)
    state["exp_avg_sq"] = exp_avg_sq
    return matrices


def numpy_eigh(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    w, q = np.linalg.eigh(a.detach().numpy())
    return torch.from_numpy(w), torch.from_numpy(q)


@pytest.fixture
def soap_qr64(monkeypatch):
    monkeypatch.setattr(SOAP, "get_orthogonal_matrix_qr", soap_qr_float64)


@pytest.fixture
def float64_reference(soap_qr64, monkeypatch):
    monkeypatch.setattr(torch.linalg, "eigh", numpy_eigh)


def _check(error: float, what: str) -> None:
    assert error <= TOLERANCE, f"{what}: relative error {error:.3e} after {STEPS} steps"


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("shapes", [SHAPES, CONV_SHAPES], ids=["harness", "conv"])
@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_matches_reference(row, shapes, pattern, float64_reference):
    """Also when a parameter skips steps or starts late, and with a 4-D kernel."""
    error = run_pair(row.name, row.kwargs, row.reference, has_grad=PATTERNS[pattern],
                     shapes=shapes)  # fmt: skip
    _check(error, f"{row.id} {pattern} {shapes}")


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("row", CONV_ROWS, ids=[r.id for r in CONV_ROWS])
def test_merge_dims_matches_reference_on_a_4d_kernel(row, pattern, float64_reference):
    error = run_pair(row.name, row.kwargs, row.reference, has_grad=PATTERNS[pattern],
                     shapes=MERGE_SHAPES)  # fmt: skip
    _check(error, f"{row.id} {pattern}")


SOAP_ROWS = [r for r in ROWS + CONV_ROWS if "soap" in r.name]
SHAMPOO_ROWS = [r for r in ROWS if "shampoo" in r.name]
SOAP_0D = [r for r in ROWS if "soap" in r.name]  # merge_dims: the reference fails on (3,)


@pytest.mark.parametrize("row", SOAP_0D, ids=[r.id for r in SOAP_0D])
def test_soap_matches_reference_on_a_0d_parameter(row, float64_reference):
    """A 0-d parameter gets no basis in both (Adam), a vector and a matrix beside it."""
    _check(run_pair(row.name, row.kwargs, row.reference, shapes=SCALAR_SHAPES), f"{row.id} 0-d")


def run_reshaped(name: str, kwargs: dict, reference, ours: list[tuple], theirs: list[tuple],
                 has_grad=PATTERNS["every-step"]) -> float:  # fmt: skip
    """``run_pair`` with the reference's parameters (and gradients) reshaped to ``theirs``."""
    return run_pair(name, kwargs, reference, shapes=ours, reference_shapes=theirs,
                    has_grad=has_grad)  # fmt: skip


@pytest.mark.parametrize("row", SHAMPOO_ROWS, ids=[r.id for r in SHAMPOO_ROWS])
def test_shampoo_0d_parameter_is_its_1_element_twin(row):
    """optimlab gives a 0-d parameter a 1 x 1 preconditioner, as the reference gives a
    1-element vector (the reference itself gives a 0-d parameter none)."""
    twins = [(1,) if s == () else s for s in SCALAR_SHAPES]
    error = run_reshaped(row.name, row.kwargs, row.reference, SCALAR_SHAPES, twins)
    _check(error, f"{row.id} 0-d as (1,)")


@pytest.mark.parametrize("pattern", ["every-step", "skips"])
@pytest.mark.parametrize("kwargs", [{}, {"lr": 1e-2, "precondition_frequency": 12}])
def test_soap_merging_a_whole_parameter_is_the_vector_rule(kwargs, pattern, float64_reference):
    """``merge_dims`` merging a (2, 3) and a (2, 2, 2) parameter into one dimension each:
    optimlab's (6,) and (8,) bases are the reference's ``precondition_1d`` on the
    flattened vectors (the reference's own ``merge_dims`` fails there). The first QR comes
    when the (8,) statistic, of rank 1 at the first gradient, has full rank."""
    reference = lambda params: (po.SOAP(params, precondition_1d=True, **kwargs), None)  # noqa: E731
    error = run_reshaped("soap", {"merge_dims": True, **kwargs}, reference,
                         [(2, 3), (2, 2, 2)], [(6,), (8,)], PATTERNS[pattern])  # fmt: skip
    _check(error, f"merged {kwargs} {pattern}")


def test_the_reference_fails_when_merge_dims_merges_a_whole_parameter():
    """pytorch_optimizer 4.1's ``merge_small_dims`` returns ``[1]`` for (2, 3): the reason
    optimlab follows the paper's merge there (see the test above)."""
    p = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    p.grad = torch.ones(2, 3, dtype=torch.float64)
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        po.SOAP([p], merge_dims=True).step()


NON_DEGENERATE = [r for r in SOAP_ROWS if not r.kwargs.get("precondition_1d")
                  and not r.kwargs.get("merge_dims")]  # fmt: skip


@pytest.mark.parametrize("row", NON_DEGENERATE, ids=[r.id for r in NON_DEGENERATE])
def test_soap_eigenvector_signs_do_not_matter(row, soap_qr64):
    """With torch's own eigh (MKL; signs may differ from numpy's) and only the QR in
    float64, rows whose statistics have no degenerate eigenspace at a first gradient match."""
    _check(run_pair(row.name, row.kwargs, row.reference, shapes=CONV_SHAPES), f"{row.id} MKL eigh")


@pytest.mark.parametrize("pattern", ["every-step", "late"])
def test_shampoo_group_count_is_the_parameters_while_all_have_gradients(pattern):
    """The reference as it is (one group): its recompute schedule counts the group's steps,
    which are each parameter's when none skips (a late one starts at step 50, a multiple
    of 5)."""
    kwargs = {"lr": 1e-2, "preconditioning_compute_steps": 5, "matrix_eps": 1e-3}
    error = run_pair("shampoo", kwargs, lambda params: (po.Shampoo(params, **kwargs), None),
                     has_grad=PATTERNS[pattern])  # fmt: skip
    _check(error, f"one group {pattern}")


def _reference_spread(kwargs: dict) -> float:
    """How far the reference moves from itself when its gradients change by one ulp."""
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in SHAPES]
    a, b = [torch.tensor(x.copy()) for x in init], [torch.tensor(x.copy()) for x in init]
    opt_a, opt_b = po.Shampoo(a, **kwargs), po.Shampoo(b, **kwargs)
    noise = np.random.default_rng(1)
    for _ in range(STEPS):
        for p, q in zip(a, b, strict=True):
            g = 0.5 * p.numpy() + noise.standard_normal(p.shape)
            p.grad, q.grad = torch.tensor(g), torch.tensor(g * (1 + 2.0**-52))
        opt_a.step()
        opt_b.step()
    return max(float((p - q).abs().max() / q.abs().max()) for p, q in zip(a, b, strict=True))


def test_shampoo_unstable_rows_agree_within_the_references_own_spread():
    """Momentum with roots recomputed every k > 1 steps and a small matrix_eps: the momentum
    (the previous preconditioned step) goes again through a stale root with eigenvalues
    near matrix_eps and grows; the run amplifies rounding (the reference moves by ~1e-6
    when its gradients change by one ulp). optimlab stays within that spread."""
    kwargs = {"lr": 1e-2, "momentum": 0.5, "preconditioning_compute_steps": 5, "matrix_eps": 1e-3}
    spread = _reference_spread(kwargs)
    assert spread > 1e-8  # ill-conditioned indeed
    error = run_pair("shampoo", kwargs, lambda params: (po.Shampoo(params, **kwargs), None))
    assert error <= 10 * spread, f"relative error {error:.3e}, the reference's spread {spread:.3e}"

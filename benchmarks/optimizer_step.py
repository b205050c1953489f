"""One optimizer ``step()``: optimlab against torch.optim on the CPU, same work, same run.

Times ``step()`` of ``adam``, ``sgd`` with momentum 0.9, ``lion`` and the newer ones
(``signum``, ``signsgd``, ``laprop``, ``cautious-lion``, ``mars``, ``adam-mini``,
``prodigy``, ``dadapt-adam``, ``shampoo``, ``soap``, ``scion``, ``normuon``, ``adamuon``,
``kron``, ``sophia`` against pytorch_optimizer, ``adafactor`` against torch.optim) on the
parameters of the 784-128-64-10 MLP (109,386 parameters) and of a 1M-parameter
model (a 1000x1000 matrix and a 1000 vector), float32, after a warm-up, and
prints the median seconds of both and the ratio optimlab / torch (< 1: optimlab
is faster). torch uses its default implementation (``foreach=None``) with the
thread count it would use anyway; NumPy's element-wise operations run on one
thread.

    python benchmarks/optimizer_step.py [--repeats 50] [--only mars soap ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch

from optimlab import optim
from optimlab.nn import Parameter

MODELS = {
    "mlp 784-128-64-10": [(784, 128), (128,), (128, 64), (64,), (64, 10), (10,)],
    "1M parameters": [(1000, 1000), (1000,)],
}
OPTIMIZERS = {
    # name: (optimlab name, optimlab kwargs, torch factory)
    "adam": ("adam", {"lr": 1e-3}, lambda ps: torch.optim.Adam(ps, lr=1e-3)),
    "sgd momentum": (
        "sgd",
        {"lr": 0.01, "momentum": 0.9},
        lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9),
    ),
    "lion": ("lion", {"lr": 1e-4}, None),
    # the 2024-26 zoo against its pytorch_optimizer twin (issue 18)
    "signum": ("signum", {"lr": 1e-3}, lambda ps: _po().SignSGD(ps, lr=1e-3)),
    "signsgd": ("signsgd", {"lr": 1e-3}, lambda ps: _po().SignSGD(ps, lr=1e-3, momentum=0.0)),
    "laprop": ("laprop", {"lr": 4e-4}, lambda ps: _po().LaProp(ps, lr=4e-4)),
    "adafactor": ("adafactor", {"lr": 1e-2}, lambda ps: torch.optim.Adafactor(ps, lr=1e-2)),
    "cautious-lion": (
        "cautious-lion",
        {"lr": 1e-4},
        lambda ps: _po().Lion(ps, lr=1e-4, cautious=True),
    ),
    "mars": ("mars", {"lr": 3e-3}, lambda ps: _po().MARS(ps, lr=3e-3)),
    "adam-mini": ("adam-mini", {"lr": 1e-3}, lambda ps: _po().AdamMini(_Named(ps), lr=1e-3)),
    "prodigy": ("prodigy", {"lr": 1.0}, lambda ps: _po().Prodigy(ps, lr=1.0)),
    "dadapt-adam": ("dadapt-adam", {"lr": 1.0}, lambda ps: _po().DAdaptAdam(ps, lr=1.0)),
    "shampoo": ("shampoo", {"lr": 1e-3}, lambda ps: _po().Shampoo(ps, lr=1e-3)),
    "soap": ("soap", {"lr": 3e-3}, lambda ps: _po().SOAP(ps, lr=3e-3)),
    "kron": ("kron", {"lr": 1e-3}, lambda ps: _po().Kron(ps, lr=1e-3)),
    "scion": ("scion", {"lr": 1e-3}, lambda ps: _po().SCION(ps, lr=1e-3)),
    "normuon": ("normuon", {}, lambda ps: _po().NorMuon(_muon_groups(ps))),
    "adamuon": ("adamuon", {}, lambda ps: _po().AdaMuon(_muon_groups(ps))),
    # a Hessian-vector product at every step (update_period 1) on the quadratic loss
    # 0.5 sum(w * p^2): optimlab by differences of the closure's gradients, the reference
    # by a second backward through the graph of the first
    "sophia": ("sophia", {"lr": 6e-2, "update_period": 1},
               lambda ps: _po().SophiaH(ps, lr=6e-2, update_period=1)),
}  # fmt: skip
#: Optimizers whose step evaluates the loss again (``step(closure)``).
CLOSURE = {"sophia"}


class _Named(torch.nn.Module):
    """What ``AdamMini`` takes: a model; its ``named_parameters`` over the given tensors
    (names outside embeddings and attention: one block per tensor, as optimlab's)."""

    def __init__(self, tensors):
        super().__init__()
        self.tensors = tensors

    def named_parameters(self, *args, **kwargs):
        return iter((f"p{i}", t) for i, t in enumerate(self.tensors))


def _muon_groups(ps):
    """NorMuon's and AdaMuon's rule, as optimlab's: matrices orthogonalised, the rest AdamW."""
    return [{"params": [p for p in ps if p.ndim >= 2], "use_muon": True},
            {"params": [p for p in ps if p.ndim < 2], "use_muon": False}]  # fmt: skip


def _po():
    import pytorch_optimizer

    return pytorch_optimizer


def median_seconds(step: Callable[[], None], repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench(shapes, name, kwargs, torch_factory, repeats: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [Parameter(a.copy()) for a in arrays]
    for p, g in zip(ours, grads, strict=True):
        p.grad = g
    opt = optim.create(name, ours, **kwargs)
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    for t, g in zip(theirs, grads, strict=True):
        t.grad = torch.tensor(g)
    if torch_factory is None:
        from pytorch_optimizer import load_optimizer

        ref = load_optimizer(name)(theirs, **kwargs)
    else:
        ref = torch_factory(theirs)
    if name in CLOSURE:
        return _bench_closure(opt, ours, ref, theirs, grads, repeats)
    ours_s = median_seconds(opt.step, repeats)
    with torch.no_grad():
        torch_s = median_seconds(ref.step, repeats)
    return ours_s, torch_s


def _bench_closure(opt, ours, ref, theirs, weights, repeats: int) -> tuple[float, float]:
    """Steps with a closure on ``0.5 sum(w * p^2)`` (``w = |g| + 0.1``): the loss, its
    gradient and the optimizer's extra evaluations, in both libraries."""
    warnings.filterwarnings("ignore", message="Using backward.. with create_graph=True")
    ws = [np.abs(w) + np.float32(0.1) for w in weights]
    tws = [torch.tensor(w) for w in ws]

    def ours_closure() -> float:
        for p, w in zip(ours, ws, strict=True):
            p.grad = w * p.data
        return 0.0

    def theirs_closure():
        ref.zero_grad(set_to_none=True)
        loss = sum(0.5 * (w * t * t).sum() for t, w in zip(theirs, tws, strict=True))
        loss.backward(create_graph=True)
        return loss

    return (median_seconds(lambda: opt.step(ours_closure), repeats),
            median_seconds(lambda: ref.step(theirs_closure), repeats))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--only", nargs="*", help="these optimizers (labels) only")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    print(f"{'optimizer':<14} {'model':<18} {'optimlab ms':>12} {'torch ms':>10} {'ratio':>7}")
    for label, (name, kwargs, factory) in OPTIMIZERS.items():
        if args.only and label not in args.only:
            continue
        if name not in optim.available():
            print(f"{label:<14} (not registered)")
            continue
        for model, shapes in MODELS.items():
            ours_s, torch_s = bench(shapes, name, kwargs, factory, args.repeats)
            print(
                f"{label:<14} {model:<18} {ours_s * 1e3:12.3f} {torch_s * 1e3:10.3f} "
                f"{ours_s / torch_s:7.2f}"
            )


if __name__ == "__main__":
    main()

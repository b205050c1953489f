"""The training workloads of ``benchmarks/run.py`` (rows 1 and 2), for both libraries.

One module holds both sides so that the timed epochs (in ``run.py``'s process)
and the memory probes (a fresh process each) run exactly the same code:

- :class:`OptimlabTrainer`: the problem's model from ``optimlab.nn.models``
  (via ``build_model``, so ``fmnist-mlp`` / ``fmnist-cnn`` exactly as
  ``optimlab compare`` builds them), ``SoftmaxCrossEntropy``, ``optim.create("sgd")``,
  and one epoch is ``optimlab.train.fit(..., epochs=1, progress=False)`` with no
  validation set (the torch loop evaluates nothing either).
- :class:`TorchTrainer`: the same layers as ``torch.nn`` modules, built from the
  optimlab model layer by layer with its initial weights copied, ``CrossEntropyLoss``
  and ``torch.optim.SGD``. One epoch does what ``fit`` does: one shuffled copy of
  the training set per epoch (``torch.randperm``, one gather), contiguous slices as
  batches, and per batch the loss as a Python float (``fit``'s divergence guard
  needs it) and the count of correct predictions (``fit`` reports the accuracy).

Run as a script it is the memory probe: a fresh process that imports one
library, loads Fashion-MNIST, trains one epoch and prints one JSON line with its
resident memory after the imports, after loading the data, and at its peak::

    python benchmarks/training.py {mlp,cnn} {optimlab,torch} [--examples N]

``python benchmarks/training.py diagnostics [--examples N] [--repeats K]`` prints the
cost of the per-layer diagnostics instead (:func:`diagnostics_overhead`).

torch is imported only inside the torch functions, so an optimlab process never
loads it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from optimlab import nn, optim
from optimlab.data import ArrayDataset, Splits, load_dataset
from optimlab.experiments.problems import PROBLEMS
from optimlab.experiments.run import make_loss
from optimlab.nn.models import build_model
from optimlab.train import fit
from optimlab.train.diagnostics import DIAGNOSTIC_EVERY, DiagnosticsRecorder
from optimlab.train.loop import StepObserver

BATCH_SIZE = 128


@dataclass(frozen=True)
class Workload:
    """A problem of ``optimlab compare`` and the SGD it is trained with."""

    problem: str
    lr: float
    momentum: float


WORKLOADS = {
    "mlp": Workload("fmnist-mlp", lr=0.1, momentum=0.0),
    "cnn": Workload("fmnist-cnn", lr=0.05, momentum=0.9),
    # DeepOBS's problems at its tuned SGD rates (baselines of fmnist_2c2d: lr 10**-0.8).
    "2c2d": Workload("fmnist-2c2d", lr=0.158, momentum=0.0),
    "deepmlp": Workload("fmnist-deepmlp", lr=0.1, momentum=0.0),
    "logreg-deepobs": Workload("fmnist-logreg-deepobs", lr=0.1, momentum=0.0),
    # The loss problems: the deep autoencoder and DeepOBS's noisy quadratic (its tuned rate).
    "autoencoder": Workload("fmnist-autoencoder", lr=0.01, momentum=0.9),
    "quadratic": Workload("quadratic-deep", lr=0.0158, momentum=0.0),
}


def blas_threads() -> int:
    """The number of threads NumPy's BLAS (OpenBLAS) uses: its environment variables
    if set, else every core this process may run on."""
    for var in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_fashion_mnist() -> Splits:
    """54,000 training, 6,000 validation, 10,000 test images, standardized, float32."""
    return load_dataset("fashion-mnist", val_fraction=0.1, seed=0)


def first(data: ArrayDataset, n: int | None) -> ArrayDataset:
    """The first ``n`` examples of ``data`` (views), or ``data`` itself."""
    if n is None or n >= len(data):
        return data
    return ArrayDataset(data.x[:n], data.y[:n])


class OptimlabTrainer:
    """The optimlab side: model, loss, SGD and the batch generator of one workload."""

    def __init__(self, kind: str, splits: Splits, seed: int = 0) -> None:
        work = WORKLOADS[kind]
        problem = PROBLEMS.get(work.problem)
        self.model = build_model(
            problem.model,
            splits.input_shape,
            splits.num_classes,
            rng=np.random.default_rng(seed),
            **problem.model_kwargs,
        )
        self.loss = make_loss(problem.loss)  # softmax, sigmoid cross-entropy or the quadratic
        hyper = {"momentum": work.momentum} if work.momentum else {}
        self.optimizer = optim.create("sgd", self.model.parameters(), lr=work.lr, **hyper)
        self.rng = np.random.default_rng(seed + 1)

    def epoch(self, train: ArrayDataset, observers: Sequence[StepObserver] = ()) -> None:
        fit(
            self.model,
            self.loss,
            self.optimizer,
            train,
            None,
            epochs=1,
            batch_size=BATCH_SIZE,
            rng=self.rng,
            progress=False,
            observers=observers,
        )


def torch_twin(model: nn.Sequential):
    """The ``torch.nn.Sequential`` with the same layers and the same weights as ``model``."""
    import torch

    layers = []
    for layer in model.layers:
        if isinstance(layer, nn.Dense):
            twin = torch.nn.Linear(layer.in_features, layer.out_features)
            weight = layer.weight.data.T  # optimlab keeps (in, out); torch (out, in)
        elif isinstance(layer, nn.Conv2D):
            twin = torch.nn.Conv2d(
                layer.in_channels,
                layer.out_channels,
                layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
            )
            weight = layer.weight.data  # (F, C, kh, kw) in both
        elif isinstance(layer, nn.BatchNorm2D):
            twin = torch.nn.BatchNorm2d(layer.num_features, eps=layer.eps, momentum=layer.momentum)
            weight = layer.weight.data
        elif isinstance(layer, nn.MaxPool2D):
            twin, weight = torch.nn.MaxPool2d(layer.kernel_size, layer.stride), None
        elif isinstance(layer, nn.ReLU):
            twin, weight = torch.nn.ReLU(), None
        elif isinstance(layer, nn.Sigmoid):
            twin, weight = torch.nn.Sigmoid(), None
        elif isinstance(layer, nn.Shift):
            twin, weight = _TorchShift(torch.from_numpy(layer.theta.data.copy())), None
        elif isinstance(layer, nn.Flatten):
            twin, weight = torch.nn.Flatten(), None  # both keep (C, H, W) order
        else:
            raise TypeError(f"torch_twin: no torch twin for {layer!r}")
        if weight is not None:
            with torch.no_grad():
                twin.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
                twin.bias.copy_(torch.from_numpy(layer.bias.data))
        layers.append(twin)
    return torch.nn.Sequential(*layers)


def _TorchShift(theta):
    """``theta - x`` with a learnt ``theta``: the twin of ``nn.Shift``."""
    import torch

    class Shift(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.theta = torch.nn.Parameter(theta)

        def forward(self, x):
            return self.theta - x

    return Shift()


def torch_loss(problem_loss: str):
    """``loss(outputs, x, y)`` of a problem's loss, in PyTorch."""
    import torch

    if problem_loss == "softmax_cross_entropy":
        ce = torch.nn.CrossEntropyLoss()
        return lambda out, x, y: ce(out, y)
    if problem_loss == "sigmoid_cross_entropy":
        return lambda out, x, y: (
            torch.nn.functional.binary_cross_entropy_with_logits(out, x.flatten(1), reduction="sum")
            / len(x)
        )
    from optimlab.data.synthetic import deepobs_quadratic_hessian

    q = torch.from_numpy(deepobs_quadratic_hessian().astype(np.float32))
    return lambda r, x, y: 0.5 * ((r @ q) * r).sum() / len(r)


class TorchTrainer:
    """The PyTorch side of one workload, starting from the optimlab model's weights."""

    def __init__(self, kind: str, splits: Splits, seed: int = 0) -> None:
        import torch

        work = WORKLOADS[kind]
        torch.manual_seed(seed)
        self.model = torch_twin(OptimlabTrainer(kind, splits, seed).model)
        self.model.train()
        problem = PROBLEMS.get(work.problem)
        self.loss = torch_loss(problem.loss)
        self.classifies = problem.classifies
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=work.lr, momentum=work.momentum
        )

    def epoch(self, train: ArrayDataset) -> None:
        import torch

        x = torch.from_numpy(train.x)  # shares the NumPy arrays: no copy
        y = torch.from_numpy(train.y)
        n = len(y)
        order = torch.randperm(n)
        x, y = x[order], y[order]  # one gather per epoch, as optimlab's iterate_batches
        total_loss, correct = 0.0, 0
        for start in range(0, n, BATCH_SIZE):
            xb, yb = x[start : start + BATCH_SIZE], y[start : start + BATCH_SIZE]
            logits = self.model(xb)
            loss = self.loss(logits, xb, yb)
            value = loss.item()
            if not math.isfinite(value):
                break
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total_loss += value * len(yb)
            if self.classifies:
                correct += int((logits.argmax(dim=1) == yb).sum())


# -- the memory probe -----------------------------------------------------------------
#
# Peaks come from the kernel's high-water mark of this process's memory
# (``VmHWM`` in /proc/self/status), not from ``getrusage``: Linux keeps
# ``ru_maxrss`` across ``exec``, so a child started by ``subprocess`` (vfork +
# exec) would report the *parent's* peak if that was larger. Writing "5" to
# /proc/self/clear_refs resets the high-water mark to the current RSS, which
# gives the peak of the training epoch alone.


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def rss_mib() -> float | None:
    """Resident memory now (None off Linux)."""
    return _status_mib("VmRSS")


def peak_rss_mib() -> float:
    """Peak resident memory since the start or the last :func:`reset_peak`."""
    peak = _status_mib("VmHWM")
    if peak is None:  # not Linux: ru_maxrss, in bytes on macOS
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = peak / 2**20 if sys.platform == "darwin" else peak / 1024
    return peak


def reset_peak() -> bool:
    """Reset the peak to the current RSS (Linux >= 4.0); False if it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def probe(kind: str, library: str, examples: int | None) -> dict[str, float | None]:
    """Train one epoch of ``kind`` with ``library`` in this process; its memory in MiB.

    ``imports``: RSS after importing the library; ``data``: after loading
    Fashion-MNIST; ``before_epoch``: after building the model; ``epoch_peak``:
    the peak during the epoch; ``peak``: the peak of the whole process.
    """
    if library == "torch":
        import torch

        torch.set_num_threads(blas_threads())
        trainer_class = TorchTrainer
    else:
        trainer_class = OptimlabTrainer
    imports = rss_mib()
    splits = load_fashion_mnist()
    data = rss_mib()
    trainer = trainer_class(kind, splits)
    train = first(splits.train, examples)
    before = rss_mib()
    peak_so_far = peak_rss_mib()
    resettable = reset_peak()
    start = time.perf_counter()
    trainer.epoch(train)
    seconds = time.perf_counter() - start
    epoch_peak = peak_rss_mib() if resettable else None
    return {
        "imports": imports,
        "data": data,
        "before_epoch": before,
        "epoch_peak": epoch_peak,
        "peak": max(peak_so_far, peak_rss_mib()),
        "seconds": seconds,
    }


# -- the cost of the diagnostics ----------------------------------------------------------


def diagnostics_overhead(examples: int = 54_000, repeats: int = 7) -> dict[str, float]:
    """Median seconds of an ``fmnist-mlp`` epoch with and without a
    :class:`~optimlab.train.diagnostics.DiagnosticsRecorder` (every
    ``DIAGNOSTIC_EVERY`` steps), and their ratio (goal < 1.10).

    The data are random images of Fashion-MNIST's shape (``examples`` of them, float32,
    standardized-like), which cost what the real ones do and need no download. The two
    trainers start from the same weights and alternate epoch by epoch, after one warm-up
    epoch each, so that a slow moment of the machine hits both.
    """
    rng = np.random.default_rng(0)
    shape = SimpleNamespace(input_shape=(1, 28, 28), num_classes=10)
    x = rng.standard_normal((examples, 1, 28, 28), dtype=np.float32)  # (N, C, H, W)
    train = ArrayDataset(x, rng.integers(0, 10, size=examples))
    plain, watched = OptimlabTrainer("mlp", shape), OptimlabTrainer("mlp", shape)
    recorder = _Timed(DiagnosticsRecorder(watched.model, every=DIAGNOSTIC_EVERY))
    times: dict[str, list[float]] = {"plain": [], "diagnostics": [], "recorder": []}
    for repeat in range(repeats + 1):
        for key, trainer, observers in (("plain", plain, ()), ("diagnostics", watched, [recorder])):
            time.sleep(0.1)
            recorder.seconds = 0.0
            start = time.perf_counter()
            trainer.epoch(train, observers)
            if repeat:  # the first is the warm-up
                times[key].append(time.perf_counter() - start)
        if repeat:
            times["recorder"].append(recorder.seconds)
    result = {key: float(np.median(t)) for key, t in times.items()}
    result["ratio"] = result["diagnostics"] / result["plain"]
    # the recorder's own time against the plain epoch: the same overhead, free of the
    # noise of two whole epochs on a shared machine
    result["recorder_ratio"] = (result["plain"] + result["recorder"]) / result["plain"]
    return result


class _Timed:
    """A step observer passing every call on to ``inner``, adding up their seconds."""

    def __init__(self, inner: StepObserver) -> None:
        self.inner, self.seconds = inner, 0.0

    def _call(self, method: str, arg: int):
        start = time.perf_counter()
        try:
            return getattr(self.inner, method)(arg)
        finally:
            self.seconds += time.perf_counter() - start

    def wants(self, step: int) -> bool:
        return self._call("wants", step)

    def before_step(self, step: int) -> None:
        self._call("before_step", step)

    def after_step(self, step: int) -> None:
        self._call("after_step", step)

    def end_epoch(self, epoch: int) -> None:
        self._call("end_epoch", epoch)


def main() -> None:
    if sys.argv[1:2] == ["diagnostics"]:
        parser = argparse.ArgumentParser(
            prog="training.py diagnostics",
            description="an fmnist-mlp epoch with and without DiagnosticsRecorder",
        )
        parser.add_argument("--examples", type=int, default=54_000)
        parser.add_argument("--repeats", type=int, default=7)
        args = parser.parse_args(sys.argv[2:])
        result = diagnostics_overhead(args.examples, args.repeats)
        print(
            f"fmnist-mlp epoch ({args.examples} examples, median of {args.repeats}): "
            f"{result['plain']:.3f} s plain, {result['diagnostics']:.3f} s with diagnostics "
            f"every {DIAGNOSTIC_EVERY} steps; overhead ratio {result['ratio']:.3f} (goal < 1.10); "
            f"the recorder's own {1e3 * result['recorder']:.1f} ms an epoch: "
            f"ratio {result['recorder_ratio']:.3f}"
        )
        return
    parser = argparse.ArgumentParser(description="memory probe: one training epoch, fresh process")
    parser.add_argument("kind", choices=sorted(WORKLOADS))
    parser.add_argument("library", choices=["optimlab", "torch"])
    parser.add_argument("--examples", type=int, help="train on the first N examples only")
    args = parser.parse_args()
    print(json.dumps(probe(args.kind, args.library, args.examples)))


if __name__ == "__main__":
    main()

"""optimlab against PyTorch on the CPU: the same work, in the same process session.

    python benchmarks/run.py                  # everything (a few minutes), writes results.md
    python benchmarks/run.py --only 1,5       # some rows
    python benchmarks/run.py --quick --only 3,5   # a smoke run (seconds)

Every row is timed on both libraries (optimlab first, then PyTorch, alternating
repetition by repetition so that a slow moment of the machine hits both), after
a warm-up, and reported as the median seconds of each and the ratio
optimlab / PyTorch (below 1: optimlab is faster), with the goal it should meet.

Fairness
    Both libraries compute in float32 on the CPU with the same number of
    threads: PyTorch gets ``torch.set_num_threads(n)`` with ``n`` the threads
    NumPy's OpenBLAS uses (``OPENBLAS_NUM_THREADS`` or ``OMP_NUM_THREADS`` if
    set, else every core). Matrix products run on ``n`` threads in both;
    NumPy's element-wise operations always run on one thread, PyTorch's on
    ``n`` for large tensors -- that difference is part of what is measured.
    Both start from the same weights and see the same data arrays
    (``torch.from_numpy``: no copy). Before each timed block the process
    pauses for a quarter of a second (:func:`settle`): the worker threads of
    the library used last keep spinning for a while after their last call
    (OpenBLAS's for up to ~0.1 s) and would steal a core from the other one --
    measured here, a torch convolution right after a NumPy matrix product ran
    1.5-2x slower than after a pause.

Rows
    1. One training epoch of ``fmnist-mlp`` (784-128-64-10 ReLU, batch 128, plain
       SGD lr 0.1) on the 54,000 training images of Fashion-MNIST
       (``load_dataset("fashion-mnist", val_fraction=0.1, seed=0)``). optimlab:
       ``optimlab.train.fit(..., epochs=1, progress=False)`` without a
       validation set; PyTorch: the same layers, ``CrossEntropyLoss``,
       ``torch.optim.SGD``, one shuffled copy of the data per epoch
       (``torch.randperm``, one gather) sliced into batches, the loss as a
       Python float and the correct count per batch -- what ``fit`` does. See
       ``benchmarks/training.py``. Goal: ratio <= 1.0.
    2. The same for ``fmnist-cnn`` (two blocks Conv2D 3x3 padding 1 of 16 and 32
       channels, ReLU, MaxPool2D 2; then Dense 1568->10), SGD lr 0.05, momentum
       0.9. The warm-up is a few hundred batches, not an epoch. Goal <= 1.5.
    1m, 2m. Peak resident memory of a fresh process (``benchmarks/training.py``)
       that imports one library, loads the data and trains that one epoch, for
       each library. The peak is the kernel's high-water mark ``VmHWM``, not
       ``ru_maxrss``, which Linux carries across ``exec`` from the parent (this
       process, which holds both libraries and the data). The notes give the
       memory after the imports (``import torch`` alone costs ~180 MiB), after
       loading the data, and how far the epoch's own peak rises above the memory
       before it (the shuffled copy of the training set, 165 MiB, is most of
       it). Goal: optimlab <= PyTorch.
    3. Forward + backward of each layer alone, at the sizes of those nets, batch
       128: Dense 784->128; Conv2D 1->16 on 28x28 and 16->32 on 14x14 (3x3,
       padding 1); MaxPool2D 2 and BatchNorm2D(16) (training mode) on
       (128, 16, 28, 28); SoftmaxCrossEntropy on (128, 10) logits. Gradients are
       reset before each repetition in both (optimlab ``zero_grad``; torch
       ``zero_grad`` and ``x.grad = None``); the input requires a gradient in
       torch because optimlab's ``backward`` always returns it. The notes give
       the forward pass alone. No goal: it shows where the epochs' time goes.
    4. ``load_dataset("fashion-mnist")`` (read the official gzipped IDX files,
       check their SHA-256, decode, split, standardize) in a fresh Python
       process each repetition, so that nothing cached in memory helps (the
       operating system's file cache is warm after the first). Timed inside
       the process (interpreter start-up would dominate otherwise); the notes
       give the import and the whole process. PyTorch has no equivalent: "-".
       Goal < 1 s.
    5. One ``step()`` of ``adam`` and of ``sgd`` with momentum 0.9 on 1M float32
       parameters against ``torch.optim`` (their default implementation), with
       ``bench`` of ``benchmarks/optimizer_step.py``. Goal <= 1.0.
    6. ``optimlab compare --problem fmnist-logreg --optimizers sgd,adam --lrs
       0.01,0.1 --seeds 0,1 --epochs 8 --no-report`` (8 runs) with ``--workers
       1`` and ``--workers 2``, each a subprocess of the ``optimlab`` console
       script into a new temporary folder; the wall time of the whole command
       (start-up, data loading in each worker, the runs). ``--no-report``
       leaves out the plots and report, a fixed serial cost of about 1.5 s
       that ``optimlab report`` builds later and that has nothing to do with
       running runs in parallel. Logistic
       regression takes ~0.2 s an epoch on one thread (each worker has one BLAS
       thread), so 8 epochs make each run ~1.5 s of compute and the runs, not
       the fixed costs, dominate. Goal: speed-up >= 1.8 on 2 cores.
    7. The DeepOBS problems (issue 15): an epoch of ``fmnist-deepmlp``
       (784-1000-500-100-10) and ``fmnist-logreg-deepobs``, and the first 60
       batches of ``fmnist-2c2d`` (conv 5x5 32 and 64, dense 1024: 3.3M
       parameters) scaled to a whole epoch, plain SGD at DeepOBS's tuned rate,
       against the same PyTorch layers from the same weights
       (``benchmarks/training.py``). No goal yet: the baseline for issue 20.
       Also the loss problems: the first 60 batches of ``fmnist-autoencoder``
       (784-1000-500-250-30 and back, 2.8M parameters, sigmoid cross-entropy
       against ``BCEWithLogitsLoss``) scaled to an epoch, and an epoch of
       ``quadratic-deep`` (1,000 noise samples of 100 dimensions: 8 steps, a
       measure of per-step overhead rather than of arithmetic).

FLOP rate
    Printed once: the float32 rate of a 2048x2048 @ 2048x2048 product with
    NumPy and with torch. For rows 1 and 2 the notes give each library's rate
    as a share of the better of the two, from an estimate of the matrix-product
    FLOPs of an epoch: per example, forward ``2 in out`` per Dense and
    ``2 F OH OW C kh kw`` per Conv2D; training does the forward product, the
    weight gradient (same count) and the input gradient (same count) -- except
    for the first layer, whose input gradient nothing needs (so 2x there, 3x
    elsewhere). Element-wise work (ReLU, pooling, loss, SGD) is not counted.

Options
    ``--quick`` fewer repetitions and 20-batch "epochs" (a smoke run);
    ``--repeats N`` N timed repetitions for every row; ``--only 1,5`` a subset;
    ``--out PATH`` where the Markdown table goes (default
    ``benchmarks/results.md``, written atomically, for a full run only: a
    ``--quick`` or ``--only`` run writes nothing unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import gc
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as `python benchmarks/run.py` it already is
    sys.path.insert(0, str(HERE))

from optimizer_step import MODELS, OPTIMIZERS, bench, median_seconds  # noqa: E402
from training import (  # noqa: E402
    BATCH_SIZE,
    OptimlabTrainer,
    TorchTrainer,
    blas_threads,
    first,
    load_fashion_mnist,
    torch_twin,
)

from optimlab import nn  # noqa: E402
from optimlab.data.synthetic import noisy_quadratic_splits  # noqa: E402
from optimlab.io import atomic_write  # noqa: E402

DEFAULT_OUT = HERE / "results.md"
ROW_NUMBERS = (1, 2, 3, 4, 5, 6, 7)


# -- what to run ----------------------------------------------------------------------


@dataclass
class Plan:
    """Repetition counts and sizes (``None`` examples: the whole training set)."""

    mlp_warmup_examples: int | None = None  # one full epoch
    mlp_repeats: int = 5
    cnn_warmup_examples: int | None = 200 * BATCH_SIZE
    cnn_repeats: int = 3
    examples: int | None = None
    layer_warmup: int = 5
    layer_repeats: int = 30
    load_warmup: int = 1
    load_repeats: int = 5
    step_repeats: int = 50
    sweep_warmup: bool = True
    sweep_repeats: int = 2
    sweep_epochs: int = 8
    sweep_subset: int | None = None
    matmul_repeats: int = 5
    deepobs_repeats: int = 3

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            mlp_warmup_examples=5 * BATCH_SIZE,
            mlp_repeats=1,
            cnn_warmup_examples=5 * BATCH_SIZE,
            cnn_repeats=1,
            examples=20 * BATCH_SIZE,
            layer_warmup=2,
            layer_repeats=5,
            load_warmup=0,
            load_repeats=1,
            step_repeats=10,
            sweep_warmup=False,
            sweep_repeats=1,
            sweep_epochs=1,
            sweep_subset=2000,
            matmul_repeats=2,
            deepobs_repeats=1,
        )

    def with_repeats(self, n: int) -> Plan:
        names = ("mlp", "cnn", "layer", "load", "step", "sweep", "matmul", "deepobs")
        return dataclasses.replace(self, **{f"{name}_repeats": n for name in names})


@dataclass
class Row:
    """One line of the table. ``met`` is None for rows without a goal."""

    key: str
    what: str
    ours: str
    theirs: str = "-"
    ratio: str = "-"
    goal: str = "-"
    met: bool | None = None
    notes: str = ""


@dataclass
class Context:
    plan: Plan
    threads: int
    matmul: dict[str, float]  # FLOP/s of the big product, per library
    _splits: object = None

    def splits(self):
        if self._splits is None:
            self._splits = load_fashion_mnist()
        return self._splits


# -- helpers ----------------------------------------------------------------------------


SETTLE_SECONDS = 0.25


def settle() -> None:
    """Let the other library's idle threads stop spinning (and collect garbage) before timing."""
    gc.collect()
    time.sleep(SETTLE_SECONDS)


def timed(fn: Callable[[], object]) -> float:
    settle()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fmt_seconds(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} µs"


def ratio_row(key: str, what: str, ours: float, theirs: float, goal: float | None, notes=""):
    """A timed row: ``goal`` is the largest acceptable ratio (None: no goal)."""
    r = ours / theirs
    return Row(
        key,
        what,
        fmt_seconds(ours),
        fmt_seconds(theirs),
        f"{r:.2f}",
        "-" if goal is None else f"<= {goal:g}",
        None if goal is None else r <= goal,
        notes,
    )


def run_json(cmd: Sequence[str]) -> dict:
    """Run ``cmd``; the JSON object on the last line of its output."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the machine ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or platform.machine()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")),
        platform.machine(),
    )
    flags_line = next((ln for ln in info.splitlines() if ln.startswith("flags")), "")
    flags = set(flags_line.split(":", 1)[-1].split())
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    return f"{model} ({', '.join(simd)})" if simd else model


def numpy_blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except Exception:  # older NumPy or another layout: not worth failing for
        return "unknown"
    config = " ".join(str(blas.get("openblas configuration", "")).split())
    return f"{blas.get('name', '?')} {blas.get('version', '')} {config}".strip()


def machine(threads: int) -> dict[str, str]:
    backends = [
        name
        for name, on in (
            ("MKL", torch.backends.mkl.is_available()),
            ("oneDNN", torch.backends.mkldnn.is_available()),
        )
        if on
    ]
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "CPU": cpu_model(),
        "cores": f"{os.cpu_count()} (this process may use {len(os.sched_getaffinity(0))})",
        "threads": f"{threads} (NumPy's OpenBLAS; torch.set_num_threads({threads}))",
        "Python": platform.python_version(),
        "NumPy": f"{np.__version__}, BLAS: {numpy_blas()}",
        "PyTorch": f"{torch.__version__} ({', '.join(backends) or 'no MKL/oneDNN'})",
        "OS": f"{platform.system()} {platform.release()}",
        "load average at start": load,
    }


def matmul_rates(repeats: int, n: int = 2048) -> dict[str, float]:
    """FLOP/s of an (n, n) @ (n, n) float32 product, NumPy and torch."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    flops = 2 * n**3
    settle()
    numpy_rate = flops / median_seconds(lambda: a @ b, repeats, warmup=1)
    settle()
    return {
        "numpy": numpy_rate,
        "torch": flops / median_seconds(lambda: torch.mm(ta, tb), repeats, warmup=1),
    }


def training_flops_per_example(model: nn.Sequential, input_shape: tuple[int, ...]) -> int:
    """Matrix-product FLOPs of one training example: 3x forward, 2x for the first layer."""
    shape, total, first_layer = tuple(input_shape), 0, True
    for layer in model.layers:
        if isinstance(layer, nn.Dense):
            forward = 2 * layer.in_features * layer.out_features
            shape = (layer.out_features,)
        elif isinstance(layer, nn.Conv2D):
            shape = layer.output_shape(shape)
            kh, kw = layer.kernel_size
            forward = 2 * math.prod(shape) * layer.in_channels * kh * kw
        else:
            if isinstance(layer, nn.Flatten):
                shape = (math.prod(shape),)
            elif hasattr(layer, "output_shape"):
                shape = layer.output_shape(shape)
            continue
        total += forward * (2 if first_layer else 3)
        first_layer = False
    return total


# -- rows 1 and 2: training epochs, and their memory ---------------------------------------------

TRAINING = {
    "mlp": (1, "fmnist-mlp epoch, SGD", 1.0),
    "cnn": (2, "fmnist-cnn epoch, SGD momentum", 1.5),
}


def training_rows(ctx: Context, kind: str) -> list[Row]:
    number, what, goal = TRAINING[kind]
    plan, splits = ctx.plan, ctx.splits()
    warmup = plan.mlp_warmup_examples if kind == "mlp" else plan.cnn_warmup_examples
    repeats = plan.mlp_repeats if kind == "mlp" else plan.cnn_repeats
    train = first(splits.train, plan.examples)
    ours, theirs = OptimlabTrainer(kind, splits), TorchTrainer(kind, splits)
    ours.epoch(first(splits.train, warmup))
    theirs.epoch(first(splits.train, warmup))
    ours_s, theirs_s = [], []
    for _ in range(repeats):
        ours_s.append(timed(lambda: ours.epoch(train)))
        theirs_s.append(timed(lambda: theirs.epoch(train)))
    o, t = statistics.median(ours_s), statistics.median(theirs_s)
    flops = training_flops_per_example(ours.model, splits.input_shape) * len(train)
    peak = max(ctx.matmul.values())
    notes = (
        f"{flops / 1e9:.1f} GFLOP/epoch: {flops / o / 1e9:.0f} vs {flops / t / 1e9:.0f} GFLOP/s "
        f"= {100 * flops / o / peak:.0f}% vs {100 * flops / t / peak:.0f}% of the matmul rate; "
        f"fastest epoch {fmt_seconds(min(ours_s))} vs {fmt_seconds(min(theirs_s))}"
    )
    rows = [ratio_row(str(number), f"{what} ({len(train):,} images)", o, t, goal, notes)]
    rows.append(memory_row(ctx, kind, number))
    return rows


def memory_row(ctx: Context, kind: str, number: int) -> Row:
    probes = {}
    for library in ("optimlab", "torch"):
        cmd = [sys.executable, str(HERE / "training.py"), kind, library]
        if ctx.plan.examples is not None:
            cmd += ["--examples", str(ctx.plan.examples)]
        probes[library] = run_json(cmd)
    o, t = probes["optimlab"], probes["torch"]

    def pair(key: str) -> str:
        return f"{mib(o[key])} vs {mib(t[key])}"

    def growth(p: dict) -> float | None:
        return None if p["epoch_peak"] is None else p["epoch_peak"] - p["before_epoch"]

    grew = f"{mib(growth(o))} vs {mib(growth(t))}"
    notes = (
        f"RSS (MiB) after imports {pair('imports')}, after loading the data {pair('data')}; "
        f"the epoch's peak is {grew} above the RSS before it"
    )
    r = o["peak"] / t["peak"]
    return Row(
        f"{number}m",
        "  peak RSS of a fresh process training that epoch",
        f"{o['peak']:.0f} MiB",
        f"{t['peak']:.0f} MiB",
        f"{r:.2f}",
        "<= 1",
        r <= 1,
        notes,
    )


def mib(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


# -- row 3: layers alone ------------------------------------------------------------------------


def layer_cases(rng: np.random.Generator) -> list[tuple[str, nn.Module, tuple[int, ...]]]:
    return [
        ("Dense 784->128", nn.Dense(784, 128, rng=rng), (128, 784)),
        ("Conv2D 1->16 3x3, 28x28", nn.Conv2D(1, 16, 3, padding=1, rng=rng), (128, 1, 28, 28)),
        ("Conv2D 16->32 3x3, 14x14", nn.Conv2D(16, 32, 3, padding=1, rng=rng), (128, 16, 14, 14)),
        ("MaxPool2D 2, (128,16,28,28)", nn.MaxPool2D(2), (128, 16, 28, 28)),
        ("BatchNorm2D(16) train, 28x28", nn.BatchNorm2D(16), (128, 16, 28, 28)),
    ]


def layer_rows(ctx: Context) -> list[Row]:
    plan = ctx.plan
    rng = np.random.default_rng(0)

    def measure(step: Callable[[], object]) -> float:
        settle()
        return median_seconds(step, plan.layer_repeats, warmup=plan.layer_warmup)

    rows = []
    for what, layer, shape in layer_cases(rng):
        twin = torch_twin(nn.Sequential(layer))[0]
        x = rng.standard_normal(shape, dtype=np.float32)
        g = rng.standard_normal(layer.forward(x).shape, dtype=np.float32)
        tx = torch.from_numpy(x).requires_grad_(True)
        tg = torch.from_numpy(g)

        def ours(layer=layer, x=x, g=g):
            layer.zero_grad()
            layer.forward(x)
            layer.backward(g)

        def theirs(twin=twin, tx=tx, tg=tg):
            twin.zero_grad(set_to_none=True)
            tx.grad = None
            twin(tx).backward(tg)

        o_fwd = measure(lambda layer=layer, x=x: layer.forward(x))
        t_fwd = measure(lambda twin=twin, tx=tx: twin(tx))
        notes = f"forward alone {fmt_seconds(o_fwd)} vs {fmt_seconds(t_fwd)}"
        rows.append(ratio_row("3", f"{what} fwd+bwd", measure(ours), measure(theirs), None, notes))

    # The loss: its forward takes labels, its backward no upstream gradient.
    loss = nn.SoftmaxCrossEntropy()
    logits = rng.standard_normal((128, 10), dtype=np.float32)
    labels = rng.integers(0, 10, 128)
    t_logits = torch.from_numpy(logits).requires_grad_(True)
    t_labels = torch.from_numpy(labels)

    def ours_loss():
        loss.forward(logits, labels)
        loss.backward()

    def theirs_loss():
        t_logits.grad = None
        value = torch.nn.functional.cross_entropy(t_logits, t_labels)
        value.item()  # optimlab's forward returns a Python float
        value.backward()

    what = "SoftmaxCrossEntropy (128,10) fwd+bwd"
    rows.append(ratio_row("3", what, measure(ours_loss), measure(theirs_loss), None))
    return rows


# -- row 4: loading the data set ----------------------------------------------------------------

LOAD_SNIPPET = """
import json, time
start = time.perf_counter()
from optimlab.data import load_dataset
imported = time.perf_counter()
load_dataset("fashion-mnist")
print(json.dumps({"import": imported - start, "load": time.perf_counter() - imported}))
"""


def load_rows(ctx: Context) -> list[Row]:
    plan = ctx.plan
    results = []
    for i in range(plan.load_warmup + plan.load_repeats):
        start = time.perf_counter()
        result = run_json([sys.executable, "-c", LOAD_SNIPPET])
        result["process"] = time.perf_counter() - start
        if i >= plan.load_warmup:
            results.append(result)
    load, imported, process = (
        statistics.median(r[key] for r in results) for key in ("load", "import", "process")
    )
    notes = (
        f"import optimlab.data {fmt_seconds(imported)}; the whole process "
        f"(start-up, import, load) {fmt_seconds(process)}"
    )
    return [
        Row(
            "4",
            "load_dataset('fashion-mnist'), fresh process",
            fmt_seconds(load),
            goal="< 1 s",
            met=load < 1.0,
            notes=notes,
        )
    ]


# -- row 5: optimizer steps ----------------------------------------------------------------------


def step_rows(ctx: Context) -> list[Row]:
    rows = []
    for label in ("adam", "sgd momentum"):
        name, kwargs, factory = OPTIMIZERS[label]
        o, t = bench(MODELS["1M parameters"], name, kwargs, factory, ctx.plan.step_repeats)
        rows.append(ratio_row("5", f"{label} step(), 1M parameters", o, t, 1.0))
    return rows


# -- row 6: a compare sweep with 1 and 2 workers ---------------------------------------------


def sweep_seconds(workers: int, epochs: int, subset: int | None) -> float:
    """Wall time of an 8-run ``optimlab compare`` into a new temporary folder."""
    exe = Path(sys.executable).parent / "optimlab"
    with tempfile.TemporaryDirectory(prefix="optimlab-bench-") as tmp:
        cmd = [
            str(exe),
            "compare",
            "--problem",
            "fmnist-logreg",
            "--optimizers",
            "sgd,adam",
            "--lrs",
            "0.01,0.1",
            "--seeds",
            "0,1",
            "--epochs",
            str(epochs),
            "--quiet",
            "--no-report",  # the sweep itself; the report is a fixed serial cost
            "--workers",
            str(workers),
            "--out",
            str(Path(tmp) / "sweep"),
        ]
        if subset is not None:
            cmd += ["--train-subset", str(subset)]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed:\n{done.stderr}")
    return seconds


def sweep_rows(ctx: Context) -> list[Row]:
    plan = ctx.plan
    if plan.sweep_warmup:  # imports and data files into the caches
        sweep_seconds(2, 1, 2000)
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(plan.sweep_repeats):
        for workers in times:
            times[workers].append(sweep_seconds(workers, plan.sweep_epochs, plan.sweep_subset))
    one, two = (statistics.median(times[w]) for w in (1, 2))
    size = f"{plan.sweep_subset:,} images" if plan.sweep_subset else "54,000 images"
    what = f"8 runs of fmnist-logreg x {plan.sweep_epochs} epochs on {size}"
    speedup = one / two
    return [
        Row("6", "compare sweep, --workers 1", fmt_seconds(one), notes=what),
        Row("6", "  the same with --workers 2", fmt_seconds(two)),
        Row(
            "6",
            "  speed-up, workers 1 -> 2",
            f"x{speedup:.2f}",
            goal=">= 1.8",
            met=speedup >= 1.8,
            notes="wall time of the command with --no-report (plots and report, a fixed "
            "serial ~1.5 s, are left to `optimlab report`)",
        ),
    ]


# -- row 7: the DeepOBS problems -------------------------------------------------------

DEEPOBS = {  # kind -> (what, batches timed: None = a whole epoch)
    "2c2d": ("fmnist-2c2d (DeepOBS) epoch, SGD", 60),
    "deepmlp": ("fmnist-deepmlp (DeepOBS) epoch, SGD", None),
    "logreg-deepobs": ("fmnist-logreg-deepobs (DeepOBS) epoch, SGD", None),
    "autoencoder": ("fmnist-autoencoder epoch, SGD momentum 0.9", 60),
    "quadratic": ("quadratic-deep (DeepOBS) epoch, SGD", None),
}


def deepobs_rows(ctx: Context) -> list[Row]:
    """An epoch of each DeepOBS problem (or, for the 2c2d network, its first batches,
    scaled to the 422 batches of an epoch), optimlab against the same PyTorch network
    from the same weights. No goal: these networks are new; the ratio is the baseline."""
    plan = ctx.plan
    rows = []
    for kind, (what, batches) in DEEPOBS.items():
        # the quadratic's data is its own noise (1,000 samples of 100 dimensions)
        splits = noisy_quadratic_splits() if kind == "quadratic" else ctx.splits()
        n = batches * BATCH_SIZE if batches is not None else plan.examples
        if plan.examples is not None and kind != "quadratic":
            n = min(n or plan.examples, plan.examples)
        train = first(splits.train, n)
        ours, theirs = OptimlabTrainer(kind, splits), TorchTrainer(kind, splits)
        warm = first(splits.train, 5 * BATCH_SIZE)
        ours.epoch(warm)
        theirs.epoch(warm)
        ours_s, theirs_s = [], []
        for _ in range(plan.deepobs_repeats):
            ours_s.append(timed(lambda ours=ours, train=train: ours.epoch(train)))
            theirs_s.append(timed(lambda theirs=theirs, train=train: theirs.epoch(train)))
        o, t = statistics.median(ours_s), statistics.median(theirs_s)
        scale = len(splits.train) / len(train)
        notes = (
            f"{len(train):,} images timed, scaled to the {len(splits.train):,} of an epoch"
            if scale > 1
            else ""
        )
        rows.append(ratio_row("7", what, o * scale, t * scale, None, notes))
    return rows


ROWS: dict[int, Callable[[Context], list[Row]]] = {
    1: lambda ctx: training_rows(ctx, "mlp"),
    2: lambda ctx: training_rows(ctx, "cnn"),
    3: layer_rows,
    4: load_rows,
    5: step_rows,
    6: sweep_rows,
    7: deepobs_rows,
}


# -- output ------------------------------------------------------------------------------------

HEADER = ("row", "what", "optimlab", "PyTorch", "ratio", "goal", "met?", "notes")
WIDTHS = (4, 54, 10, 10, 6, 7, 5)


def met_text(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "NO")


def cells(row: Row) -> tuple[str, ...]:
    return (
        row.key,
        row.what,
        row.ours,
        row.theirs,
        row.ratio,
        row.goal,
        met_text(row.met),
        row.notes,
    )


def text_line(values: Sequence[str]) -> str:
    fixed = zip(values[:-1], WIDTHS, strict=True)
    parts = [f"{v:<{w}}" if i < 2 else f"{v:>{w}}" for i, (v, w) in enumerate(fixed)]
    return "  ".join([*parts, values[-1]]).rstrip()


def markdown(rows: Sequence[Row], info: dict[str, str], ctx: Context, argv: Sequence[str]) -> str:
    plan = ctx.plan
    rates = ", ".join(f"{k} {v / 1e9:.0f} GFLOP/s" for k, v in ctx.matmul.items())
    lines = [
        "# optimlab against PyTorch",
        "",
        f"Measured by `{shlex.join(['python', 'benchmarks/run.py', *argv])}` "
        f"on {info['date']}. Each row: the median of several repetitions after a warm-up, "
        "optimlab and PyTorch alternating; ratio = optimlab / PyTorch (below 1: optimlab is "
        "faster). How each row is measured, and why it is a fair comparison: the docstring "
        "of [`run.py`](run.py).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items() if k != "date"),
        f"| float32 matmul 2048x2048 @ 2048x2048 | {rates} |",
        "",
        "## Results",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * 3 + ["---"] * 3) + "|",
        *(
            "| " + " | ".join(c.strip().replace("|", "\\|") for c in cells(row)) + " |"
            for row in rows
        ),
        "",
        "## Repetitions",
        "",
        f"- rows 1, 2: {plan.mlp_repeats} and {plan.cnn_repeats} timed epochs each after a "
        f"warm-up of {warmup_text(plan.mlp_warmup_examples)} and "
        f"{warmup_text(plan.cnn_warmup_examples)}; rows 1m, 2m: one fresh process per library",
        f"- row 3: {plan.layer_repeats} after {plan.layer_warmup}; row 4: {plan.load_repeats} "
        f"fresh processes after {plan.load_warmup}; row 5: {plan.step_repeats} steps after 5; "
        f"row 6: {plan.sweep_repeats} sweeps per worker count"
        + (" after a 1-epoch warm-up sweep" if plan.sweep_warmup else ""),
        "- GFLOP/s of rows 1 and 2: matrix-product FLOPs of an epoch (forward, weight "
        "gradient, input gradient; no input gradient for the first layer) over its time, "
        "as a share of the better matmul rate above",
        "",
    ]
    return "\n".join(lines)


def warmup_text(examples: int | None) -> str:
    return "one epoch" if examples is None else f"{examples // BATCH_SIZE} batches"


# -- main ----------------------------------------------------------------------------------------


def parse_rows(text: str) -> list[int]:
    try:
        numbers = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        numbers = []
    if not numbers or any(n not in ROW_NUMBERS for n in numbers):
        raise argparse.ArgumentTypeError(f"expected row numbers among 1-7, e.g. 1,5; got {text!r}")
    return numbers


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions, 20-batch epochs")
    parser.add_argument("--repeats", type=int, help="timed repetitions of every row")
    parser.add_argument("--only", type=parse_rows, help="rows to run, e.g. 1,5 (default: all)")
    parser.add_argument(
        "--out", type=Path, help=f"Markdown results (default for a full run: {DEFAULT_OUT})"
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be >= 1")
    plan = Plan.quick() if args.quick else Plan()
    if args.repeats is not None:
        plan = plan.with_repeats(args.repeats)
    out = args.out
    if out is None and not args.quick and args.only is None:
        out = DEFAULT_OUT

    threads = blas_threads()
    torch.set_num_threads(threads)
    info = machine(threads)
    for key, value in info.items():
        print(f"{key + ':':<23}{value}")
    ctx = Context(plan, threads, matmul_rates(plan.matmul_repeats))
    print(
        f"{'float32 matmul 2048^3:':<23}"
        + ", ".join(f"{k} {v / 1e9:.0f} GFLOP/s" for k, v in ctx.matmul.items())
    )
    print()
    print(text_line(HEADER))
    print(text_line(["-" * w for w in WIDTHS] + ["-" * 5]))
    rows: list[Row] = []
    for number in args.only or ROW_NUMBERS:
        for row in ROWS[number](ctx):
            print(text_line(cells(row)), flush=True)
            rows.append(row)
    if out is not None:
        text = markdown(rows, info, ctx, argv)
        atomic_write(out, lambda f: f.write(text))
        print(f"\nwrote {out}")


if __name__ == "__main__":
    main()

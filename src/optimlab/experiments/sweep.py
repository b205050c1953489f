"""The coordinator of ``optimlab compare``: runs a sweep, stores it, resumes it.

The coordinator expands the configuration into runs, registers them in the
store, and hands out one epoch of one run at a time (``runner.run_epoch``) to
workers: local processes (``workers``), a Dask cluster (``dask``), all with
one BLAS thread each so that the numbers do not depend on how many run at
once. When an epoch comes back it writes the run's checkpoint (atomically),
then commits the epoch rows and the run's status in one transaction, then
hands out the next epoch. A killed sweep therefore loses at most the epochs
in flight; running the same command again skips finished runs and continues
the others from their checkpoints.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from optimlab import _threads as blas_threads
from optimlab.data import DATASETS
from optimlab.experiments import checkpoint
from optimlab.experiments.config import RunSpec, SweepConfig
from optimlab.experiments.lock import SweepLock
from optimlab.experiments.metric import Metric
from optimlab.experiments.plugins import sources
from optimlab.experiments.problems import PROBLEMS, Problem
from optimlab.experiments.runner import run_epoch
from optimlab.experiments.store import Store
from optimlab.io import atomic_write, ensure_writable_dir

SINGLE_THREAD = blas_threads.settings(1)


@dataclass
class SweepOutcome:
    """What a sweep ended with."""

    out: Path
    total: int
    done: list[str] = field(default_factory=list)
    diverged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def _environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _pid(_: object) -> int:
    return os.getpid()


class LocalWorkers:
    """``n`` worker processes (spawned, one BLAS thread each)."""

    def __init__(self, n: int) -> None:
        with _environment(SINGLE_THREAD):  # inherited by the spawned processes
            self.pool = cf.ProcessPoolExecutor(
                max_workers=n, mp_context=multiprocessing.get_context("spawn")
            )
            # Start them now, while the environment says one thread. A signal while they
            # start (Terminated, KeyboardInterrupt) must not leave them running.
            try:
                list(self.pool.map(_pid, range(n)))
            except BaseException:
                self.close(abort=True)
                raise

    def submit(self, fn: Callable, *args: Any) -> Any:
        return self.pool.submit(fn, *args)

    def wait_any(self, futures: set) -> set:
        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return done

    def close(self, abort: bool = False) -> None:
        """Stop the workers: after their current epochs, or at once (``abort``: a signal)."""
        if abort:
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskWorkers:
    """An existing Dask scheduler (``tcp://host:port``) or ``local:N`` (a new local cluster)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - the extra is installed in tests
            raise ValueError("--dask needs the dask extra: pip install 'optimlab[dask]'") from exc
        self.cluster = None
        if check_dask_address(address):
            n = int(address.removeprefix("local:"))
            self.cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, env=SINGLE_THREAD,
            )  # fmt: skip
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout=10)
            except OSError as exc:
                raise ValueError(f"--dask {address!r}: cannot reach the scheduler ({exc})") from exc

    def submit(self, fn: Callable, *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def wait_any(self, futures: set) -> set:
        from distributed import wait

        return set(wait(list(futures), return_when="FIRST_COMPLETED").done)

    def close(self, abort: bool = False) -> None:
        """Disconnect; a local cluster (``local:N``) is shut down with its workers."""
        if abort:
            self.client.cancel(list(self.client.futures.values()), force=True)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def run_sweep(
    config: SweepConfig,
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool | None = None,
    command_line: Sequence[str] = (),
) -> SweepOutcome:
    """Run (or resume) the sweep ``config`` into the folder ``out``.

    Everything that can be checked is checked before anything is written: a
    bad configuration or ``--dask`` address, an unreachable scheduler, a
    damaged database, one that holds another problem, or one whose runs differ
    from this sweep's in a setting besides optimizer, rate and seed raise
    ``ValueError`` and leave ``out`` as it was. One coordinator per ``out`` at a
    time (:class:`~optimlab.experiments.lock.SweepLock`).
    """
    config.validate()
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ValueError(f"compare: --workers must be >= 1; received {workers!r}")
    local_dask = check_dask_address(dask)
    specs = config.runs()
    out = Path(out)
    database = out / "results.db"
    if database.exists():
        with Store(database, readonly=True) as existing:
            existing.check_problem(config.problem)
            check_same_settings(existing, specs)
    remote = None if dask is None or local_dask else DaskWorkers(dask)  # reachable?
    finished = False
    try:
        out = ensure_writable_dir(out)
        with SweepLock(out):
            remove_temporaries(out)
            store = Store(database)
            try:
                store.claim_problem(config.problem)
                outcome = _run(config, specs, out, store, workers, dask, remote, progress,
                               command_line)  # fmt: skip
            finally:
                store.close()
        finished = True
        return outcome
    finally:
        if remote is not None:
            remote.close(abort=not finished)


def check_dask_address(dask: str | None) -> bool:
    """Whether ``dask`` is ``local:N`` (``ValueError`` for a bad N); before anything runs."""
    if dask is None or not dask.startswith("local:"):
        if dask is not None and not dask.strip():
            raise ValueError("--dask needs a scheduler address (tcp://host:port) or local:N")
        return False
    text = dask.removeprefix("local:")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"--dask local:N needs N >= 1 workers; received {dask!r}")
    return True


def check_same_settings(store: Store, specs: Sequence[RunSpec]) -> None:
    """``ValueError`` if a stored run has this sweep's optimizer, rate and seed but another
    configuration (other epochs, hyperparameters, schedule, batch size, train subset...):
    the analysis would pool the two as seeds of one cell."""
    stored = {(r["optimizer"], float(r["lr"]), int(r["seed"])): r for r in store.runs()}
    clashes = []
    for spec in specs:
        row = stored.get((spec.optimizer, spec.lr, spec.seed))
        if row is not None and row["run_id"] != spec.run_id:
            clashes.append((spec, json.loads(row["config"])))
    if not clashes:
        return
    spec, old = clashes[0]
    new = spec.config
    keys = sorted(set(old) | set(new))
    differ = [k for k in keys if old.get(k) != new.get(k)]
    said = "; ".join(
        f"{k}: stored {json.dumps(old.get(k))}, asked {json.dumps(new.get(k))}" for k in differ
    )
    raise ValueError(
        f"compare: {store.path} already holds {spec.optimizer} at lr={spec.lr:g}, seed "
        f"{spec.seed} with other settings ({said}), and {len(clashes) - 1} more such run(s). "
        "The runs of one sweep differ only in optimizer, learning rate and seed: give the "
        "stored settings, or start a new --out. Nothing was changed."
    )


def problem_classes(problem: Problem) -> int | None:
    """The number of classes of a classifier's data set; None for a loss problem."""
    return DATASETS.get(problem.dataset).num_classes if problem.classifies else None


def remove_temporaries(out: Path) -> None:
    """Temporary files a killed coordinator left (``.NAME.XXXX.tmp``, from ``atomic_open``)."""
    for folder in (out, out / "checkpoints"):
        for path in folder.glob(".*.tmp"):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def _run(
    config: SweepConfig, specs: list[RunSpec], out: Path, store: Store, workers: int | None,
    dask: str | None, remote: Any, progress: bool | None, command_line: Sequence[str],
) -> SweepOutcome:  # fmt: skip
    problem = PROBLEMS.get(config.problem)
    store.record_invocation(command_line)  # the store first: if it cannot be written,
    # config.toml stays as it was
    num_classes = problem_classes(problem)
    metric = Metric.of_problem(problem, num_classes, config.effective_target())
    store.set_settings({
        "num_classes": num_classes,
        **({"target_accuracy": metric.target} if metric.is_accuracy else {}),
        **metric.settings(),
        "tune": config.tune,
        "command": " ".join(command_line),
    })  # fmt: skip
    texts = sources(specs[0].plugins) if specs else {}  # shipped with every epoch
    store.add_runs(spec.row() for spec in specs)
    config.write(out / "config.toml")
    checkpoints = out / "checkpoints"
    checkpoints.mkdir(exist_ok=True)
    outcome = SweepOutcome(out=out, total=len(specs))

    def finished(spec: RunSpec, status: str, error: str | None = None) -> None:
        {"done": outcome.done, "diverged": outcome.diverged}.get(status, []).append(spec.run_id)
        if status == "failed":
            outcome.failed.append((spec.run_id, error or ""))
        bar.update(1)

    todo: list[tuple[RunSpec, bytes | None]] = []
    with tqdm(
        total=len(specs),
        desc="runs",
        unit="run",
        disable=None if progress is None else not progress,
    ) as bar:
        for spec in specs:
            row = store.run(spec.run_id)
            if row["status"] in ("done", "diverged"):
                finished(spec, row["status"])
                continue
            saved = _own_checkpoint(checkpoints / f"{spec.run_id}.npz", spec, bar)
            if saved is not None:
                status = _recover(store, spec, saved)
                if status in ("done", "diverged"):
                    finished(spec, status)
                    continue
            todo.append((spec, saved))
        if todo:
            n = workers or os.cpu_count() or 1
            if remote is not None:
                pool = remote  # closed by run_sweep
            else:
                pool = DaskWorkers(dask) if dask else LocalWorkers(min(n, len(todo)))
            try:
                _drive(pool, todo, store, checkpoints, finished, texts)
            except BaseException:  # a signal (KeyboardInterrupt, Terminated) or a crash
                if pool is not remote:
                    pool.close(abort=True)
                raise
            if pool is not remote:
                pool.close()
    return outcome


def _drive(
    pool: Any, todo: list, store: Store, checkpoints: Path, finished: Callable,
    texts: dict[str, str],
) -> None:  # fmt: skip
    """Keep every unfinished run's next epoch in flight until all runs end."""
    in_flight: dict[Any, RunSpec] = {}
    for spec, saved in todo:
        store.set_status(spec.run_id, "running")
        in_flight[pool.submit(run_epoch, spec.config, saved, texts)] = spec
    while in_flight:
        for future in pool.wait_any(set(in_flight)):
            spec = in_flight.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # the run failed; the sweep goes on
                message = f"{type(exc).__name__}: {exc}"
                store.set_status(spec.run_id, "failed", error=message)
                finished(spec, "failed", message)
                continue
            status = result["status"]
            if status == "running":  # the worker need not wait for the disk
                in_flight[pool.submit(run_epoch, spec.config, result["checkpoint"], texts)] = spec
            # Checkpoint first, then the rows: a crash in between is repaired on resume.
            atomic_write(
                checkpoints / f"{spec.run_id}.npz",
                lambda f, data=result["checkpoint"]: f.write(data),
                binary=True,
            )
            store.record(spec.run_id, result["epochs"], status, result["seconds"])
            if status != "running":
                finished(spec, status)


def _recover(store: Store, spec: RunSpec, saved: bytes) -> str:
    """Complete the store from a checkpoint (rows a crash kept from being committed)."""
    history = checkpoint.from_bytes(saved)["history"]
    epochs = history["epochs"]
    if history["diverged"]:
        status = "diverged"
    elif len(epochs) >= spec.sweep.epochs:
        status = "done"
    else:
        status = "running"
    store.record(spec.run_id, epochs, status, sum(e["seconds"] for e in epochs))
    return status


def _own_checkpoint(path: Path, spec: RunSpec, bar: Any) -> bytes | None:
    """The run's checkpoint, if it is readable and this run's (its recorded run id and
    configuration digest); otherwise ``None`` (the run starts from scratch) and a note."""
    try:
        saved = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        reason = f"cannot be read ({exc.strerror or exc})"
    else:
        try:
            owner = checkpoint.owner(saved)
        except ValueError as exc:
            reason = f"is not a readable checkpoint ({exc})"
        else:
            if owner == (spec.run_id, checkpoint.digest(spec.config)):
                return saved
            reason = f"belongs to run {owner[0]}" if owner[0] else "records no run"
    bar.write(
        f"compare: checkpoint {path} {reason}; run {spec.run_id} starts from scratch",
        file=sys.stderr,
    )
    return None

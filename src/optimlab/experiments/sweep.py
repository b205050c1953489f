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
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, contextmanager
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
from optimlab.experiments.protocol import Plan, finals_of, space_record, trials_of
from optimlab.experiments.protocol_results import choose
from optimlab.experiments.runner import run_epoch, unpack_weights
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
        before = {p.pid for p in multiprocessing.active_children()}
        with _environment(SINGLE_THREAD):  # inherited by the spawned processes
            self.pool = cf.ProcessPoolExecutor(
                max_workers=n, mp_context=multiprocessing.get_context("spawn")
            )
            # Start them now, while the environment says one thread. A signal while they
            # start (Terminated, KeyboardInterrupt) must not leave them running, not even
            # one caught half-spawned, before the pool had recorded it.
            try:
                list(self.pool.map(_pid, range(n)))
            except BaseException:
                self.close(abort=True)
                for process in multiprocessing.active_children():
                    if process.pid not in before:
                        process.terminate()
                        process.join(timeout=10)
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
    from this sweep's in a setting besides optimizer, rate and seed (a
    protocol's: besides the searched hyperparameters) raise ``ValueError`` and
    leave ``out`` as it was. One coordinator per ``out`` at a time
    (:class:`~optimlab.experiments.lock.SweepLock`).
    """
    return run_sweeps([(config, out)], workers=workers, dask=dask, progress=progress,
                      command_line=command_line)[0]  # fmt: skip


def run_sweeps(
    sweeps: Sequence[tuple[SweepConfig, str | os.PathLike[str]]],
    *,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool | None = None,
    command_line: Sequence[str] = (),
) -> list[SweepOutcome]:
    """Run several sweeps (each into its own folder and store) on one pool of workers:
    what ``optimlab benchmark`` does with a suite's problems. Every sweep is checked
    before any is written; the outcomes come back in the order given."""
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise ValueError(f"compare: --workers must be >= 1; received {workers!r}")
    local_dask = check_dask_address(dask)
    checked = [(config, Path(out), precheck(config, Path(out))) for config, out in sweeps]
    remote = None if dask is None or local_dask else DaskWorkers(dask)  # reachable?
    finished = False
    try:
        with ExitStack() as stack:
            folders = []
            for _, out, _ in checked:  # every lock before anything is changed
                folders.append(ensure_writable_dir(out))
                stack.enter_context(SweepLock(folders[-1]))
            jobs = []
            for (config, _, specs), out in zip(checked, folders, strict=True):
                remove_temporaries(out)
                store = Store(out / "results.db")
                stack.callback(store.close)
                store.claim_problem(config.problem)
                jobs.append(SweepJob(config, specs, out, store, command_line))
            bar = stack.enter_context(tqdm(
                total=sum(job.planned for job in jobs), desc="runs", unit="run",
                disable=None if progress is None else not progress,
            ))  # fmt: skip
            for job in jobs:
                job.bar = bar
                job.start()
            _coordinate(jobs, workers, dask, remote)
        finished = True
        return [job.outcome for job in jobs]
    finally:
        if remote is not None:
            remote.close(abort=not finished)


def precheck(config: SweepConfig, out: Path) -> list[RunSpec]:
    """Validate ``config`` and compare it with what ``out`` holds (reading only); the
    sweep's first-stage runs (a grid's runs, a protocol's trials)."""
    config.validate()
    plan = config.plan()
    specs = config.runs() if plan is None else [t.spec for t in trials_of(config, plan)]
    database = out / "results.db"
    if database.exists():
        with Store(database, readonly=True) as existing:
            existing.check_problem(config.problem)
            if plan is None:
                check_same_settings(existing, specs)
            else:
                check_same_protocol(existing, config, plan)
    return specs


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
    if store.setting("protocol") is not None:
        raise ValueError(
            f"compare: {store.path} holds a tuning protocol's trials (--budget / --protocol); "
            "a learning-rate grid goes into a new --out. Nothing was changed."
        )
    stored = {(r["optimizer"], float(r["lr"]), int(r["seed"])): r for r in store.runs()}
    clashes = []
    for spec in specs:
        row = stored.get((spec.optimizer, spec.lr, spec.seed))
        if row is not None and row["run_id"] != spec.run_id:
            clashes.append((spec, json.loads(row["config"])))
    if not clashes:
        return
    spec, old = clashes[0]
    said = _differences(old, spec.config)
    raise ValueError(
        f"compare: {store.path} already holds {spec.optimizer} at lr={spec.lr:g}, seed "
        f"{spec.seed} with other settings ({said}), and {len(clashes) - 1} more such run(s). "
        "The runs of one sweep differ only in optimizer, learning rate and seed: give the "
        "stored settings, or start a new --out. Nothing was changed."
    )


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    keys = sorted(set(old) | set(new))
    return "; ".join(
        f"{k}: stored {json.dumps(old.get(k))}, asked {json.dumps(new.get(k))}"
        for k in keys
        if old.get(k) != new.get(k)
    )


def check_same_protocol(store: Store, config: SweepConfig, plan: Plan) -> None:
    """``ValueError`` if ``store`` holds a grid sweep, or a trial of this protocol as
    another configuration (another search space, search seed, sequence or setting):
    its numbers would be scored as this sweep's trial. A larger or smaller budget, or
    other final seeds, are fine: the trials already run are reused."""
    if store.runs() and store.setting("protocol") is None:
        raise ValueError(
            f"compare: {store.path} holds a grid sweep (learning rates x seeds); a tuning "
            "protocol (--budget / --protocol) goes into a new --out. Nothing was changed."
        )
    planned = {(t.optimizer, plan.kind, t.study, t.trial): t.spec
               for t in trials_of(config, plan)}  # fmt: skip
    for row in store.trials():
        key = (row["optimizer"], row["kind"], int(row["study"]), int(row["trial"]))
        spec = planned.get(key)
        if spec is None or spec.run_id == row["run_id"]:
            continue
        old = json.loads(store.run(row["run_id"])["config"])
        raise ValueError(
            f"compare: {store.path} holds trial {row['trial']} of {row['optimizer']} (study "
            f"{row['study']}) as another configuration ({_differences(old, spec.config)}): the "
            "search space, search seed, sequence or a sweep setting changed. Give the stored "
            "settings (OUT/config.toml), or start a new --out. Nothing was changed."
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


class SweepJob:
    """One sweep's coordinator: its store, its stages of runs, its outcome.

    A grid sweep has one stage (its runs). A protocol has two: the trials, then,
    once every trial has ended, the chosen configuration at the final seeds.
    """

    def __init__(self, config: SweepConfig, specs: list[RunSpec], out: Path, store: Store,
                 command_line: Sequence[str]) -> None:  # fmt: skip
        self.config, self.out, self.store = config, out, store
        self.plan = config.plan()
        self.first = specs
        self.command_line = command_line
        self.checkpoints = out / "checkpoints"
        self.finals_planned = (
            len(config.optimizers) * len(self.plan.final_seeds) if self.plan else 0
        )
        self.planned = len(specs) + self.finals_planned
        self.outcome = SweepOutcome(out=out, total=0)
        self.stage = 0
        self.seen: set[str] = set()
        self.bar: Any = None
        self.texts: dict[str, str] = {}
        self.in_flight = 0

    def start(self) -> None:
        """Record the invocation and the settings; write ``config.toml``."""
        config, store = self.config, self.store
        problem = PROBLEMS.get(config.problem)
        store.record_invocation(self.command_line)  # the store first: if it cannot be
        # written, config.toml stays as it was
        num_classes = problem_classes(problem)
        metric = Metric.of_problem(problem, num_classes, config.effective_target())
        self.metric = metric
        settings = {
            "num_classes": num_classes,
            **({"target_accuracy": metric.target} if metric.is_accuracy else {}),
            **metric.settings(),
            "tune": config.tune or self.plan is not None,
            "command": " ".join(self.command_line),
        }
        if self.plan is not None:
            settings["protocol"] = self.plan.record()
            settings["search_spaces"] = space_record(config)
        store.set_settings(settings)
        self.texts = sources(self.first[0].plugins) if self.first else {}
        config.write(self.out / "config.toml")
        self.checkpoints.mkdir(exist_ok=True)

    def next_stage(self) -> list[tuple[RunSpec, bytes | None]] | None:
        """The unfinished runs of the next stage (registered, recovered from checkpoints);
        ``None`` when there is no stage left."""
        self.stage += 1
        if self.stage == 1:
            specs = self.first
            if self.plan is not None:
                trials = trials_of(self.config, self.plan)
                self.store.add_runs(spec.row() for spec in specs)
                self.store.add_trials((t.optimizer, self.plan.kind, t.study, t.trial,
                                       t.spec.run_id) for t in trials)  # fmt: skip
                self.trials = trials
        elif self.stage == 2 and self.plan is not None:
            specs = self._finals()
            fresh = len({s.run_id for s in specs} - self.seen)
            unplanned = self.finals_planned - fresh
            if self.bar is not None and unplanned > 0:
                self.bar.total -= unplanned
                self.bar.refresh()
        else:
            return None
        self.store.add_runs(spec.row() for spec in specs)
        todo = []
        for spec in specs:
            if spec.run_id in self.seen:
                continue
            self.seen.add(spec.run_id)
            self.outcome.total += 1
            row = self.store.run(spec.run_id)
            if row["status"] in ("done", "diverged"):
                self.finished(spec, row["status"])
                continue
            saved = _own_checkpoint(self.checkpoints / f"{spec.run_id}.npz", spec, self.bar)
            if saved is not None:
                status = _recover(self.store, spec, saved)
                if status in ("done", "diverged"):
                    self.finished(spec, status)
                    continue
            todo.append((spec, saved))
        return todo

    def _finals(self) -> list[RunSpec]:
        """The chosen trial of every optimizer at the final seeds."""
        from optimlab.experiments.analysis import run_summaries

        summaries = run_summaries(self.store, self.metric)
        choices = choose(self.plan, self.store.trials(), summaries, self.metric.sign())
        by_id = {t.spec.run_id: t.spec for t in self.trials}
        chosen = {}
        for name in self.config.optimizers:
            choice = choices.get(name)
            if choice is None or choice.chosen is None:
                continue
            failed = [t for t in choice.trials if t.summary is None
                      or t.summary.status not in ("done", "diverged")]  # fmt: skip
            if failed and self.plan.final_seeds:  # a failed trial may be the best: wait
                self.bar.write(
                    f"compare: {len(failed)} trial(s) of {name} failed (first: trial "
                    f"{failed[0].trial} of study {failed[0].study}, run {failed[0].run_id}); "
                    "its final seeds run once every trial has ended: run the same command "
                    "again", file=sys.stderr,
                )  # fmt: skip
                continue
            chosen[name] = by_id[choice.chosen.run_id]
        return finals_of(self.plan, chosen)

    def finished(self, spec: RunSpec, status: str, error: str | None = None) -> None:
        outcome = self.outcome
        {"done": outcome.done, "diverged": outcome.diverged}.get(status, []).append(spec.run_id)
        if status == "failed":
            outcome.failed.append((spec.run_id, error or ""))
        if self.bar is not None:
            if self.bar.n >= self.bar.total:
                self.bar.total += 1
            self.bar.update(1)


def _coordinate(jobs: list[SweepJob], workers: int | None, dask: str | None,
                remote: Any) -> None:  # fmt: skip
    """Keep every unfinished run's next epoch in flight until every stage of every sweep
    has ended; a sweep's next stage starts when its last run of a stage ends."""
    pool = None
    in_flight: dict[Any, tuple[SweepJob, RunSpec]] = {}

    def submit(job: SweepJob, spec: RunSpec, saved: bytes | None) -> None:
        job.in_flight += 1
        in_flight[pool.submit(run_epoch, spec.config, saved, job.texts)] = (job, spec)

    def stage(job: SweepJob) -> list[tuple[RunSpec, bytes | None]]:
        """The job's next stage with unfinished runs ([] when it has none left)."""
        while True:
            todo = job.next_stage()
            if todo is None or todo:
                return todo or []

    def launch(job: SweepJob, todo: list[tuple[RunSpec, bytes | None]]) -> None:
        for spec, saved in todo:
            job.store.set_status(spec.run_id, "running")
            submit(job, spec, saved)

    try:
        first = [(job, stage(job)) for job in jobs]
        waiting = sum(len(todo) for _, todo in first)
        if waiting == 0:
            return
        if remote is not None:
            pool = remote  # closed by run_sweeps
        elif dask:
            pool = DaskWorkers(dask)
        else:  # the unfinished runs, and a protocol's final runs still to come
            later = sum(j.finals_planned for j in jobs if j.plan is not None and j.stage < 2)
            pool = LocalWorkers(min(workers or os.cpu_count() or 1, waiting + later))
        for job, todo in first:
            launch(job, todo)
        while in_flight:
            for future in pool.wait_any(set(in_flight)):
                job, spec = in_flight.pop(future)
                job.in_flight -= 1
                _handle(job, spec, future, submit)
                if job.in_flight == 0:
                    launch(job, stage(job))
    except BaseException:  # a signal (KeyboardInterrupt, Terminated) or a crash
        if pool is not None and pool is not remote:
            pool.close(abort=True)
        raise
    if pool is not None and pool is not remote:
        pool.close()


def _handle(job: SweepJob, spec: RunSpec, future: Any, submit: Callable) -> None:
    """Store an epoch that came back (checkpoint first, then the rows), or the error."""
    try:
        result = future.result()
    except Exception as exc:  # the run failed; the sweep goes on
        message = f"{type(exc).__name__}: {exc}"
        job.store.set_status(spec.run_id, "failed", error=message)
        job.finished(spec, "failed", message)
        return
    status = result["status"]
    if status == "running":  # the worker need not wait for the disk
        submit(job, spec, result["checkpoint"])
    # Checkpoint first, then the rows: a crash in between is repaired on resume.
    atomic_write(
        job.checkpoints / f"{spec.run_id}.npz",
        lambda f, data=result["checkpoint"]: f.write(data),
        binary=True,
    )
    job.store.record(
        spec.run_id, result["epochs"], status, result["seconds"],
        diagnostics=result.get("diagnostics", ()), weights=result.get("weights", ()),
    )  # fmt: skip
    if status != "running":
        job.finished(spec, status)


def _recover(store: Store, spec: RunSpec, saved: bytes) -> str:
    """Complete the store from a checkpoint (rows a crash kept from being committed)."""
    content = checkpoint.from_bytes(saved)
    history = content["history"]
    epochs = history["epochs"]
    if history["diverged"]:
        status = "diverged"
    elif len(epochs) >= spec.sweep.epochs:
        status = "done"
    else:
        status = "running"
    store.record(
        spec.run_id, epochs, status, sum(e["seconds"] for e in epochs),
        diagnostics=history.get("diagnostics", ()),
        weights=unpack_weights(content.get("weights")),
    )  # fmt: skip
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

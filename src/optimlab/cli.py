"""The ``optimlab`` command: parse the arguments, then call the packages."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any


def parse_value(text: str) -> Any:
    """``"true"`` -> True, ``"3"`` -> 3, ``"0.9"`` -> 0.9, ``"0.9,0.99"`` -> (0.9, 0.99)."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    if "," in text:
        return tuple(parse_value(part) for part in text.split(","))
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_override(text: str) -> tuple[str, Any]:
    """``"momentum=0.9"`` -> ``("momentum", 0.9)``; ``argparse`` type for ``-o``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE (e.g. momentum=0.9); received {text!r}"
        )
    return name.strip(), parse_value(value)


def _comma_list(text: str, kind: type, what: str, example: str) -> list:
    """``text`` split at commas, each part converted by ``kind`` (argparse error if not;
    an empty list or an empty item, as in ``128,,64``, is an error too)."""
    parts = text.split(",")
    if not text.strip() or any(not part.strip() for part in parts):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated {what} (e.g. {example}) without empty items; "
            f"received {text!r}"
        )
    try:
        return [kind(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated {what} (e.g. {example}); received {text!r}"
        ) from None


def int_list(text: str) -> tuple[int, ...]:
    """``"128,64"`` -> ``(128, 64)``, each >= 1."""
    values = tuple(_comma_list(text, int, "integers", "128,64"))
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected sizes >= 1; received {text!r}")
    return values


def float_list(text: str) -> list[float]:
    """``"1e-3,1e-2"`` -> ``[0.001, 0.01]``."""
    return _comma_list(text, float, "numbers", "1e-3,1e-2")


def name_list(text: str) -> list[str]:
    """``"adam,nesterov"`` -> ``["adam", "nesterov"]``."""
    return _comma_list(text, str.strip, "names", "adam,nesterov")


def point(text: str) -> tuple[float, float]:
    """``"-1.5,2"`` -> ``(-1.5, 2.0)``."""
    values = _comma_list(text, float, "numbers", "-1.5,2")
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"expected a point X,Y (e.g. -1.5,2); received {text!r}")
    return values[0], values[1]


def seed_list(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]``."""
    return _comma_list(text, int, "integers", "0,1,2")


def _pairs(
    parser: argparse.ArgumentParser, flag: str, dest: str, help: str, metavar: str = "NAME=VALUE"
) -> None:
    """A repeatable ``flag NAME=VALUE`` option collected as a list of pairs in ``dest``."""
    parser.add_argument(
        flag, dest=dest, type=parse_override, action="append", default=[], metavar=metavar,
        help=help,
    )  # fmt: skip


#: ``protocol.PROTOCOLS`` and ``protocol.SEQUENCES``, written out (importing them would
#: import NumPy before ``--threads`` sets the BLAS threads); a test keeps them equal.
PROTOCOL_NAMES = ("crowded-valley", "deepobs", "algoperf")
SEQUENCE_NAMES = ("sobol", "halton")


def final_seeds(text: str) -> list[int]:
    """``--final-seeds``: a count N (seeds 0..N-1) or a comma-separated list of seeds."""
    if text.strip().isdigit():
        return list(range(int(text)))
    return seed_list(text)


def _protocol_options(parser: argparse.ArgumentParser) -> None:
    """Tuning with an equal budget (optimlab.experiments.protocol)."""
    parser.add_argument(
        "--budget",
        help="tune with N quasi-random trials per optimizer (drawn from its search space, one "
        "seed each) instead of a grid; with --protocol crowded-valley also one-shot, small, "
        "medium or large",
    )
    parser.add_argument(
        "--final-seeds", type=final_seeds,
        help="re-run each optimizer's best trial with these seeds: a count N (seeds 0..N-1) "
        "or a list 0,1,2 (default: the protocol's, else --seeds)",
    )  # fmt: skip
    parser.add_argument(
        "--protocol", choices=PROTOCOL_NAMES,
        help="a tuning protocol from the literature: crowded-valley (defaults, or 25/50/75 "
        "trials, then 10 seeds), deepobs (36-rate log grid, then 10 seeds), algoperf (5 "
        "studies of 5 trials, median time to target)",
    )  # fmt: skip
    parser.add_argument("--studies", type=int, help="independent studies (default: 1; "
                        "algoperf: 5)")  # fmt: skip
    parser.add_argument("--sequence", choices=SEQUENCE_NAMES, help="quasi-random sequence "
                        "(default: sobol)")  # fmt: skip
    parser.add_argument("--search-seed", type=int, help="seed of the sequence's scrambling "
                        "(default: 0)")  # fmt: skip


def _runner_options(parser: argparse.ArgumentParser, out: str) -> None:
    """What compare and benchmark share: the protocol, plugins, workers, output, verdicts."""
    _protocol_options(parser)
    _plugin_option(parser)
    parser.add_argument("--workers", type=int, help="local worker processes (default: cores)")
    parser.add_argument("--dask", help="a Dask scheduler address, or local:N for a local cluster")
    parser.add_argument("--out", help=out)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _verdict_options(parser)


def _plugin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugin", dest="plugins", action="append", default=[], metavar="FILE.py|MODULE",
        help="a Python file or module to import first, e.g. one that registers your own "
        "optimizer (repeatable; recorded in every run, imported by every worker)",
    )  # fmt: skip


#: ``--metric`` of the verdicts: the keys of ``optimlab.experiments.sweep_verdicts.METRICS``.
VERDICT_METRICS = ("best", "final", "test")


def confidence_level(text: str) -> float:
    """``"0.9"`` or ``"90"`` (percent) -> ``0.9``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a confidence level such as 0.95 or 95; received {text!r}"
        ) from None
    if 1 < value < 100:
        value /= 100
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a confidence level in (0, 1) or a percentage in (1, 100), such as 0.95 "
            f"or 95; received {text!r}"
        )
    return value


def _verdict_options(parser: argparse.ArgumentParser) -> None:
    """``--metric``, ``--rope`` and ``--confidence`` of the verdicts (verdicts.json).

    The metric names are those of ``sweep_verdicts.METRICS``, written out: importing
    it would import NumPy before ``--threads`` can set the BLAS threads.
    """
    parser.add_argument(
        "--metric", default="best", choices=VERDICT_METRICS,
        help="the per-seed value the verdicts compare, in the problem's metric (accuracy, or "
        "loss): best (the best epoch's validation value, default), final (the last epoch's) "
        "or test (the last epoch's test value)",
    )  # fmt: skip
    parser.add_argument(
        "--rope", type=float, metavar="WIDTH",
        help="region of practical equivalence, in the metric's units (accuracy as a fraction; "
        "default 0.001 = 0.1 points; a loss: 0.1%% of its typical value): 'equivalent' needs "
        "the whole interval within +-WIDTH",
    )  # fmt: skip
    parser.add_argument(
        "--confidence", type=confidence_level, default=0.95, metavar="LEVEL",
        help="level of the bootstrap intervals, e.g. 0.95 or 95 (default 95%%)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    from optimlab import __version__

    parser = argparse.ArgumentParser(
        prog="optimlab",
        description="Neural networks and optimizers from scratch in NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"optimlab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train one model with one optimizer and write its history and curves",
        description="Train one model; writes OUT/history.json, OUT/loss.png, OUT/accuracy.png.",
    )
    train.add_argument("--dataset", default="fashion-mnist", help="data set (default: %(default)s)")
    train.add_argument("--model", default="mlp", help="mlp, cnn or logreg (default: %(default)s)")
    train.add_argument(
        "--hidden",
        type=int_list,
        default=(128, 64),
        help="hidden sizes of the mlp (default: 128,64)",
    )
    train.add_argument(
        "--channels",
        type=int_list,
        default=(16, 32),
        help="channels of the cnn's conv blocks (default: 16,32)",
    )
    train.add_argument("--activation", default="relu", help="mlp activation (default: relu)")
    train.add_argument(
        "--problem",
        help="a problem of optimlab compare --list-problems, in place of --dataset, --model "
        "and its options: the same run as compare's with the same settings",
    )
    train.add_argument(
        "--init",
        help="weight initialiser: torch, he, glorot, ... (default: the model's, torch)",
    )
    train.add_argument(
        "--normalize",
        default="standardize",
        choices=["standardize", "scale", "none"],
        help="input scaling (default: standardize with training-set statistics)",
    )
    train.add_argument("--optimizer", default="sgd", help="optimizer name (default: %(default)s)")
    train.add_argument("--lr", type=float, default=0.1, help="learning rate (default: %(default)s)")
    train.add_argument(
        "--schedule",
        default="constant",
        help="learning-rate schedule: constant, cosine, warmup-cosine, exponential, step "
        "(default: constant)",
    )
    train.add_argument(
        "--warmup", type=int, default=0, help="steps of linear learning-rate warm-up (default: 0)"
    )
    _pairs(
        train, "-o", "overrides", "another optimizer hyperparameter, repeatable (-o momentum=0.9)"
    )
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--batch-size", type=int, default=128)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="share of the training set held out for validation",
    )
    train.add_argument("--train-subset", type=int, help="train on the first N examples only")
    train.add_argument(
        "--diagnostics", action="store_true",
        help="record per-layer diagnostics (every 10th step) into history.json and draw "
        "OUT/diagnostics-*.png",
    )  # fmt: skip
    train.add_argument(
        "--threads", type=int, default=1,
        help="BLAS threads (default 1, as every sweep worker: the same numbers as compare, bit "
        "for bit; more can be faster for the CNN, with float32 results that differ in the "
        "last bits)",
    )  # fmt: skip
    _plugin_option(train)
    train.add_argument("--out", required=True, help="folder for history.json and the plots")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=_train)

    compare = commands.add_parser(
        "compare",
        help="compare optimizers on one problem: learning rates x seeds, stored, resumable",
        description="Run a sweep of optimizers x learning rates x seeds on a problem into "
        "OUT/results.db (resumable: run the same command again after a crash), then draw "
        "OUT/*.png and write OUT/report.md and OUT/report.html.",
    )
    compare.add_argument("--list-problems", action="store_true", help="list the problems and exit")
    compare.add_argument("--config", help="a sweep TOML file (command-line options override it)")
    compare.add_argument("--problem", help="problem name (default: fmnist-mlp)")
    compare.add_argument("--optimizers", type=name_list, help="comma-separated optimizer names")
    compare.add_argument("--lrs", type=float_list, help="learning-rate grid, e.g. 1e-3,1e-2")
    compare.add_argument("--seeds", type=seed_list, help="seeds, e.g. 0,1,2 (default: 0)")
    compare.add_argument("--epochs", type=int)
    compare.add_argument("--batch-size", type=int)
    compare.add_argument("--schedule", help="learning-rate schedule (default: constant)")
    compare.add_argument("--warmup", type=int, help="steps of linear warm-up")
    compare.add_argument("--init", help="weight initialiser, e.g. he (default: the problem's)")
    _pairs(compare, "-o", "overrides", "a hyperparameter for every optimizer that takes it")
    compare.add_argument(
        "--tune", action="store_true",
        help="compare each optimizer at the rate of its grid with the best final validation "
        "value (accuracy, or loss for a loss problem)",
    )  # fmt: skip
    compare.add_argument("--train-subset", type=int, help="train on the first N examples only")
    compare.add_argument(
        "--diagnostics", action="store_true",
        help="record per-layer diagnostics in every run (gradient, update and weight RMS, "
        "update/weight, effective learning rate, cosine and sign agreement with the negative "
        "gradient, every 10th step) into the diagnostics table; part of the runs' identity",
    )  # fmt: skip
    compare.add_argument(
        "--landscape", action="store_true",
        help="keep every run's weights 4 times per epoch and at each epoch's end (the weights "
        "table), for optimlab landscape OUT; part of the runs' identity",
    )  # fmt: skip
    compare.add_argument(
        "--target", type=float,
        help="the validation value whose 'epochs (steps, seconds) to reach' the report counts, "
        "in the problem's metric (an accuracy or a loss; default: the problem's)",
    )  # fmt: skip
    compare.add_argument(
        "--target-accuracy", type=float, help="--target for a problem judged by accuracy"
    )
    _runner_options(compare, "the sweep's folder (results.db, plots, report)")
    compare.add_argument(
        "--no-report", action="store_true",
        help="only run and store the sweep; build plots and report later with optimlab report",
    )  # fmt: skip
    compare.set_defaults(handler=_compare)

    bench = commands.add_parser(
        "benchmark",
        help="one tuning protocol on every problem of a suite: time to target, performance "
        "profiles, verdicts per problem",
        description="Run a suite's problems (each a sweep in OUT/<problem>/, all on one pool "
        "of workers, resumable) with an equal tuning budget per optimizer, then write "
        "OUT/report.md, OUT/report.html, OUT/suite.json and OUT/profiles.png.",
    )
    bench.add_argument("--list-suites", action="store_true", help="list the suites and exit")
    bench.add_argument("--suite", help="a shipped suite (quick, deepobs-fmnist) or a suite file")
    bench.add_argument(
        "--optimizers",
        type=name_list,
        help="comma-separated optimizer names (default: the suite's)",
    )
    bench.add_argument("--epochs", type=int, help="epochs of every problem (default: the "
                       "suite's; recorded in every run)")  # fmt: skip
    bench.add_argument("--seeds", type=seed_list, help="the trial seed first (default: 0)")
    _runner_options(bench, "the suite's folder (one sweep folder per problem)")
    bench.set_defaults(handler=_benchmark)

    report = commands.add_parser(
        "report", help="rebuild the plots and the report of a sweep from its database"
    )
    report.add_argument("out", help="the sweep's folder (holding results.db)")
    _verdict_options(report)
    report.set_defaults(handler=_report)

    export = commands.add_parser("export", help="write a sweep's tables as files")
    export.add_argument("out", help="the sweep's folder (holding results.db)")
    export.add_argument(
        "--format", default="csv", help="csv (default) or json: runs, epochs and verdicts"
    )
    _verdict_options(export)
    export.set_defaults(handler=_export)

    paths = commands.add_parser(
        "trajectories",
        help="optimizers on a 2-D test function: paths, convergence curves, an animation",
        description="Run optimizers on a 2-D test function and write OUT/trajectories.png "
        "(paths on a contour plot), OUT/convergence.png (distance to the nearest minimum and "
        "value per step), OUT/trajectories.gif (the paths moving together) and "
        "OUT/summary.json (rate, final value and distance per optimizer).",
    )
    paths.add_argument("--list-functions", action="store_true", help="list the functions and exit")
    paths.add_argument(
        "--function", default="rosenbrock", help="test function (default: rosenbrock)"
    )
    paths.add_argument(
        "--optimizers", type=name_list, default=["sgd", "momentum", "nesterov", "adam"],
        help="comma-separated optimizer names (default: sgd,momentum,nesterov,adam)",
    )  # fmt: skip
    paths.add_argument("--steps", type=int, default=500, help="steps per optimizer (default: 500)")
    paths.add_argument(
        "--lrs", type=float_list,
        help="one learning rate for all, or one per optimizer in order (default: each "
        "optimizer's own default); with --tune, the grid searched",
    )  # fmt: skip
    paths.add_argument(
        "--tune", action="store_true",
        help="per optimizer, search a log grid of rates for the lowest final value",
    )  # fmt: skip
    paths.add_argument("--start", type=point, help="start point X,Y (default: the function's)")
    paths.add_argument("--noise", type=float, default=0.0, help="Gaussian gradient noise (std)")
    paths.add_argument("--seed", type=int, default=0, help="seed of the noise (default: 0)")
    _pairs(
        paths,
        "-p",
        "function_params",
        "a parameter of the function, e.g. condition=100 for quadratic",
    )
    _pairs(
        paths, "-o", "overrides",
        "a hyperparameter for every optimizer that takes it (or for one: adam.betas=0.9,0.99)",
        metavar="[OPTIMIZER.]NAME=VALUE",
    )  # fmt: skip
    _plugin_option(paths)
    paths.add_argument("--frames", type=int, default=100, help="GIF frames (default: 100)")
    paths.add_argument(
        "--fps", type=int, default=20, help="GIF frames per second, 1 to 50 (default: 20)"
    )
    paths.add_argument("--out", help="folder for the pictures and summary.json")
    paths.set_defaults(handler=_trajectories)

    study = commands.add_parser(
        "study",
        help="re-run a published study and write its page (seed: the from-scratch study)",
        description="Run (or resume) the study's sweep into OUT, then write its page from "
        "OUT/results.db: tables, figures and a verdict on each of the original's conclusions.",
    )
    study.add_argument(
        "name", choices=list(STUDIES),
        help="the study: seed (the from-scratch study) or deepobs (DeepOBS's problems beside "
        "its published baselines)",
    )  # fmt: skip
    study.add_argument("--out", help="the sweeps' folder (default: results/<study>-study, "
                       "results/deepobs)")  # fmt: skip
    study.add_argument("--page", help="the page to write (default: docs/seed-study.md, "
                       "docs/deepobs.md)")  # fmt: skip
    study.add_argument("--config", help="the sweep file (default: the study's own)")
    _plugin_option(study)
    study.add_argument("--workers", type=int, help="local worker processes (default: cores)")
    study.add_argument("--dask", help="a Dask scheduler address, or local:N")
    study.add_argument(
        "--page-only", action="store_true", help="write the page from the database as it is"
    )
    study.add_argument("--quiet", action="store_true", help="no progress bar")
    study.set_defaults(handler=_study)

    optimizers = commands.add_parser(
        "optimizers",
        help="list every optimizer name, or show one optimizer's update equations",
        description="Without NAME: every name with its hyperparameters, defaults and paper. "
        "With NAME: its update equations, reference and hyperparameters.",
    )
    optimizers.add_argument("name", nargs="?", help="an optimizer name, e.g. adam or demon-qhadamw")
    optimizers.set_defaults(handler=_optimizers)
    return parser


def _sweep_config(args: argparse.Namespace) -> Any:
    from optimlab.experiments.config import SweepConfig

    config = SweepConfig.from_toml(args.config) if args.config else SweepConfig()
    for key in ("problem", "optimizers", "lrs", "seeds", "epochs", "batch_size", "schedule",
                "warmup", "train_subset", "target_accuracy", "target", "init", "budget",
                "final_seeds", "protocol", "studies", "sequence", "search_seed"):  # fmt: skip
        value = getattr(args, key)
        if value is not None:
            setattr(config, key, value)
    for flag in ("tune", "diagnostics", "landscape"):
        if getattr(args, flag, False):
            setattr(config, flag, True)
    config.hyperparameters.update(dict(args.overrides))
    _add_plugins(config, args.plugins)
    return config


def _add_plugins(config: Any, plugins: list[str]) -> None:
    """The command line's plugins after the file's: files as absolute paths (the sweep's
    config.toml is read again from another folder), modules by name."""
    from pathlib import Path

    for plugin in plugins:
        is_file = plugin.endswith(".py") and Path(plugin).is_file()
        entry = str(Path(plugin).resolve()) if is_file else plugin  # else: named as given
        if entry not in config.plugins:
            config.plugins.append(entry)


def _compare(args: argparse.Namespace) -> int:
    from optimlab.experiments.problems import describe_problems

    if args.list_problems:
        print(describe_problems())
        return 0
    if not args.out:
        raise ValueError("--out is required: the folder of the sweep's database and report")
    from optimlab.experiments.sweep import run_sweep
    from optimlab.experiments.sweep_verdicts import check_options

    check_options(args.metric, args.rope, args.confidence)  # before hours of training
    config = _sweep_config(args)
    outcome = run_sweep(
        config, args.out, workers=args.workers, dask=args.dask,
        progress=False if args.quiet else None, command_line=["optimlab", *sys.argv[1:]],
    )  # fmt: skip
    print(
        f"{outcome.total} runs: {len(outcome.done)} done, {len(outcome.diverged)} diverged, "
        f"{len(outcome.failed)} failed"
    )
    if not args.no_report:
        md, html = _write_report(args)
        print(f"report: {html} and {md}")
    else:
        print(f"verdicts: {_write_verdicts(args)}")
    if outcome.failed:
        for run_id, error in outcome.failed:
            print(f"failed run {run_id}: {error}", file=sys.stderr)
        return 1
    return 0


def _benchmark(args: argparse.Namespace) -> int:
    from optimlab.experiments.suite import load_suite, shipped

    if args.list_suites:
        for name, path in shipped().items():
            print(f"{name:<16} {path}")
        return 0
    if not args.suite or not args.out:
        raise ValueError("benchmark: --suite and --out are required (optimlab benchmark "
                         "--list-suites lists the suites)")  # fmt: skip
    from optimlab.experiments.suite import run_suite
    from optimlab.experiments.sweep_verdicts import check_options

    check_options(args.metric, args.rope, args.confidence)
    overrides = {key: getattr(args, key) for key in (
        "optimizers", "epochs", "seeds", "budget", "final_seeds", "protocol", "studies",
        "sequence", "search_seed")}  # fmt: skip
    suite = load_suite(args.suite, overrides)
    for config in suite.sweeps:
        _add_plugins(config, args.plugins)
    outcomes = run_suite(
        suite, args.out, workers=args.workers, dask=args.dask,
        progress=False if args.quiet else None, command_line=["optimlab", *sys.argv[1:]],
        report_options=_verdict_kwargs(args),
    )  # fmt: skip
    failed = [f for o in outcomes for f in o.failed]
    for outcome, config in zip(outcomes, suite.sweeps, strict=True):
        print(f"{config.problem}: {outcome.total} runs: {len(outcome.done)} done, "
              f"{len(outcome.diverged)} diverged, {len(outcome.failed)} failed")  # fmt: skip
    print(f"report: {args.out}/report.html and {args.out}/report.md")
    for run_id, error in failed:
        print(f"failed run {run_id}: {error}", file=sys.stderr)
    return 1 if failed else 0


def _verdict_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"metric": args.metric, "rope": args.rope, "confidence": args.confidence}


def _write_report(args: argparse.Namespace) -> tuple[str, str]:
    from optimlab.experiments.report import write_report

    md, html = write_report(args.out, args.out, **_verdict_kwargs(args))
    return str(md), str(html)


def _write_verdicts(args: argparse.Namespace) -> str:
    from optimlab.experiments.sweep_verdicts import verdicts_of_sweep

    return str(verdicts_of_sweep(args.out, **_verdict_kwargs(args)))


def _report(args: argparse.Namespace) -> int:
    md, html = _write_report(args)
    print(f"report: {html} and {md}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from optimlab.experiments.export import export

    for path in export(args.out, fmt=args.format, **_verdict_kwargs(args)):
        print(path)
    return 0


def _per_optimizer(overrides: list[tuple[str, Any]], names: list[str]) -> dict[str, dict[str, Any]]:
    """``-o`` values by optimizer: ``NAME=V`` goes to every optimizer taking ``NAME``."""
    from optimlab import optim

    taken: dict[str, dict[str, Any]] = {n: {} for n in names}
    for key, value in overrides:
        target, dot, hp = key.rpartition(".")
        if dot and target not in taken:
            raise ValueError(f"-o {key}: {target!r} is not among the optimizers {', '.join(names)}")
        chosen = [target] if dot else [n for n in names if hp in optim.hyperparameters_of(n)]
        if not chosen:
            raise ValueError(f"-o {key}: none of {', '.join(names)} takes {hp!r}")
        for name in chosen:
            taken[name][hp] = value
    return taken


def _trajectories(args: argparse.Namespace) -> int:
    from optimlab import problems, trajectories
    from optimlab.experiments import plugins
    from optimlab.trajectories.plots import check_animation

    found = [plugins.find(p) for p in args.plugins]
    plugins.load(found)
    if args.list_functions:
        for name in problems.FUNCTIONS.names():
            fn = problems.get_function(name)
            params = problems.parameters_of(name)
            extra = f"\n    parameters: {', '.join(params)}" if params else ""
            (x0, x1), (y0, y1) = fn.window
            print(
                f"{fn.describe()}\n    window x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]; "
                f"default start ({fn.start[0]:g}, {fn.start[1]:g}){extra}"
            )
        return 0
    if not args.out:
        raise ValueError("--out is required: the folder for the pictures and summary.json")
    function = problems.get_function(
        args.function, noise=args.noise, seed=args.seed, **dict(args.function_params)
    )
    check_animation(args.frames, args.fps)
    runs = trajectories.run(
        function, args.optimizers, steps=args.steps, lrs=None if args.tune else args.lrs,
        start=args.start, hyperparameters=_per_optimizer(args.overrides, args.optimizers),
        tune=args.tune, grid=args.lrs if args.tune else None, plugins=found,
    )  # fmt: skip
    paths = trajectories.save_outputs(args.out, runs, frames=args.frames, fps=args.fps)
    tunings = runs.tunings
    kind = function.target_kind
    x, y = runs[args.optimizers[0]].points[0]
    print(f"{function.name}, {args.steps} steps from ({x:g}, {y:g})")
    print(f"{'optimizer':<24}{'lr':>10}{'final value':>16}{'distance to ' + kind:>30}")
    for name, run in runs.items():
        note = f"  diverged at step {run.diverged_at}" if run.diverged else ""
        if tunings and tunings[name].at_edge:
            note += "  (best rate at the edge of the grid)"
        if tunings and tunings[name].best_lr is None:
            note += "  (every rate of the grid diverged)"
        print(f"{name:<24}{run.lr:>10.3g}{run.final_value:>16.6g}{run.final_distance:>30.6g}{note}")
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


#: The studies of ``optimlab study``: their default sweep folder and page.
STUDIES = {
    "seed": ("results/seed-study", "docs/seed-study.md"),
    "deepobs": ("results/deepobs", "docs/deepobs.md"),
}


def _study(args: argparse.Namespace) -> int:
    out, page = STUDIES[args.name]
    args.out, args.page = args.out or out, args.page or page
    if args.name == "deepobs":
        return _deepobs_study(args)
    from optimlab.experiments.studies.seed import study_config
    from optimlab.experiments.studies.seed_page import write_page

    if not args.page_only:
        from optimlab.experiments.sweep import run_sweep

        config = study_config(args.config)
        _add_plugins(config, args.plugins)
        print(f"seed study: {len(config.runs())} runs of {config.problem} into {args.out}")
        outcome = run_sweep(
            config, args.out, workers=args.workers, dask=args.dask,
            progress=False if args.quiet else None, command_line=["optimlab", *sys.argv[1:]],
        )  # fmt: skip
        print(
            f"{outcome.total} runs: {len(outcome.done)} done, {len(outcome.diverged)} "
            f"diverged, {len(outcome.failed)} failed"
        )
    page = write_page(args.out, args.page, command="optimlab study seed")
    print(f"wrote {page} and its figures in {page.with_suffix('')}/")
    return 0


def _deepobs_study(args: argparse.Namespace) -> int:
    from optimlab.experiments.studies.deepobs import run_study
    from optimlab.experiments.studies.deepobs_page import write_page

    if args.config:
        raise ValueError("study deepobs: its sweeps are its own (--config is for study seed)")
    if not args.page_only:
        from optimlab.experiments.sweep import run_sweep

        def run(config: Any, folder: Any) -> None:
            _add_plugins(config, args.plugins)
            print(f"deepobs study: {len(config.runs())} runs of {config.problem} into {folder}")
            outcome = run_sweep(
                config, folder, workers=args.workers, dask=args.dask,
                progress=False if args.quiet else None,
                command_line=["optimlab", *sys.argv[1:]],
            )  # fmt: skip
            print(f"{outcome.total} runs: {len(outcome.done)} done, {len(outcome.diverged)} "
                  f"diverged, {len(outcome.failed)} failed")  # fmt: skip

        run_study(args.out, run)
    page, note = write_page(args.out, args.page, command="optimlab study deepobs")
    for line in note:
        print(line)
    print(f"wrote {page} and its figures in {page.with_suffix('')}/")
    return 0


def _format_defaults(defaults: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in defaults.items())


def _optimizers(args: argparse.Namespace) -> int:
    import inspect

    from optimlab import optim

    if args.name is None:
        for name in optim.available():
            spec = optim.resolve(name)
            print(f"{name}\n    {_format_defaults(dict(spec.defaults))}\n    {spec.paper}")
        return 0
    spec = optim.resolve(args.name)
    print(f"{spec.name}: {spec.paper}")
    print(f"reference: {spec.reference or 'none (tested against its equations)'}")
    print(f"hyperparameters: {_format_defaults(dict(spec.defaults))}")
    print(
        "step counts: per parameter (a parameter that skips steps is debiased for its own age)"
        if spec.step_counts == "parameter"
        else "step counts: per parameter group, as the reference keeps them"
    )
    if spec.momentum:
        print(f"Demon: demon-{spec.name} decays {spec.momentum!r}")
    from optimlab.optim import search

    space = "; ".join(f"{k} {search.describe(v)}" for k, v in spec.search.items())
    print(f"search space (compare --budget): {space}")
    print()
    print(inspect.cleandoc(spec.equations))
    return 0


def _train(args: argparse.Namespace) -> int:
    from optimlab.experiments.train_run import TrainConfig, run_training

    overrides = dict(args.overrides)
    config = TrainConfig(
        dataset=args.dataset,
        model=args.model,
        hidden=args.hidden,
        channels=args.channels,
        activation=args.activation,
        init=args.init,
        normalize=None if args.normalize == "none" else args.normalize,
        optimizer=args.optimizer,
        lr=args.lr,
        hyperparameters=overrides,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        val_fraction=args.val_fraction,
        schedule=args.schedule,
        warmup=args.warmup,
        problem=args.problem,
        train_subset=args.train_subset,
        plugins=tuple(args.plugins),
        diagnostics=args.diagnostics,
    )
    result = run_training(config, args.out, progress=False if args.quiet else None)
    if result["diverged"]:
        print(
            f"diverged at epoch {result['diverged_at_epoch']}; epochs before are kept in "
            f"{args.out}/history.json",
            file=sys.stderr,
        )
        return 1
    name = "accuracy" if result["test_accuracy"] is not None else "loss"  # a loss problem
    val = result["epochs"][-1][f"val_{name}"]
    val_text = "n/a" if val is None else f"{val:.4f}"
    figures = "loss.png, accuracy.png" if name == "accuracy" else "loss.png"
    print(
        f"test {name} {result[f'test_{name}']:.4f} (validation {val_text}, "
        f"{result['seconds']:.1f} s); wrote {args.out}/history.json, {figures}"
    )
    return 0


_NEGATIVE_NUMBERS = re.compile(r"^-\.?\d")
_NUMBER_OPTIONS = ("--start", "--lrs")


def _join_negative_points(argv: Sequence[str]) -> list[str]:
    """``--start -1.5,2`` -> ``--start=-1.5,2``: argparse takes ``-1.5,2`` for an option.

    The same for ``--lrs``, so that a negative rate reaches the range check.
    """
    out: list[str] = []
    for token in argv:
        if out and out[-1] in _NUMBER_OPTIONS and _NEGATIVE_NUMBERS.match(token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every ``finally`` runs (workers stopped,
    lock released, temporary files removed); not an ``Exception``, so no ``except
    Exception`` takes it for a failed run."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


INTERRUPTED = "optimlab: interrupted; run the same command again to resume"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``optimlab`` console script; returns the exit status.

    0 success, 1 some runs failed or diverged (``train``, ``compare``), 2 a bad
    input (the message names it), 130 after SIGINT, 143 after SIGTERM.
    """
    import signal
    import threading

    parser = build_parser()
    args = parser.parse_args(_join_negative_points(sys.argv[1:] if argv is None else argv))
    if args.command == "train":
        if args.threads < 1:
            parser.error(f"argument --threads: expected an integer >= 1; received {args.threads}")
        from optimlab import _threads

        _threads.limit_before_numpy(args.threads)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
        # Also when started with SIGINT ignored (a shell's background job): kill -INT works.
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return args.handler(args)
    except BrokenPipeError:  # `optimlab optimizers | head`
        return 0
    except (ValueError, TypeError, FileNotFoundError, OSError) as exc:
        print(f"optimlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except Terminated:
        print(INTERRUPTED, file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)


if __name__ == "__main__":
    sys.exit(main())

"""The ``optimlab`` command: parse the arguments, then call the packages."""

from __future__ import annotations

import argparse
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


def int_list(text: str) -> tuple[int, ...]:
    """``"128,64"`` -> ``(128, 64)``, each >= 1."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers (e.g. 128,64); received {text!r}"
        ) from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected sizes >= 1; received {text!r}")
    return values


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
        "--init",
        default="torch",
        help="weight initialiser: torch, he, glorot, ... (default: torch)",
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
        help="learning-rate schedule: constant, cosine, exponential, step (default: constant)",
    )
    train.add_argument(
        "--warmup", type=int, default=0, help="steps of linear learning-rate warm-up (default: 0)"
    )
    train.add_argument(
        "-o",
        dest="overrides",
        type=parse_override,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another optimizer hyperparameter, repeatable (-o momentum=0.9)",
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
    train.add_argument("--out", required=True, help="folder for history.json and the plots")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=_train)

    optimizers = commands.add_parser(
        "optimizers",
        help="list every optimizer name, or show one optimizer's update equations",
        description="Without NAME: every name with its hyperparameters, defaults and paper. "
        "With NAME: its update equations, reference and hyperparameters.",
    )
    optimizers.add_argument("name", nargs="?", help="an optimizer name, e.g. adam or demon-qhadamw")
    optimizers.set_defaults(handler=_optimizers)
    return parser


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
    if spec.momentum:
        print(f"Demon: demon-{spec.name} decays {spec.momentum!r}")
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
    )
    result = run_training(config, args.out, progress=False if args.quiet else None)
    if result["diverged"]:
        print(
            f"diverged at epoch {result['diverged_at_epoch']}; epochs before are kept in "
            f"{args.out}/history.json",
            file=sys.stderr,
        )
        return 1
    val = result["epochs"][-1]["val_accuracy"]
    val_text = "n/a" if val is None else f"{val:.4f}"
    print(
        f"test accuracy {result['test_accuracy']:.4f} (validation {val_text}, "
        f"{result['seconds']:.1f} s); wrote {args.out}/history.json, loss.png, accuracy.png"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``optimlab`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # `optimlab optimizers | head`
        return 0
    except (ValueError, TypeError, FileNotFoundError, OSError) as exc:
        print(f"optimlab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("optimlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

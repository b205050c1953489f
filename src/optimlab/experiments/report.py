"""The report of a sweep: ``OUT/report.md`` and a self-contained ``OUT/report.html``.

Both are rendered from one list of blocks (headings, paragraphs, lists,
tables, figures), so they say the same thing. The HTML embeds its figures as
base64 ``data:`` URIs and its CSS inline: it loads nothing from anywhere.
The statistical rules are those of :mod:`optimlab.experiments.analysis`.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from optimlab.experiments.analysis import (
    ALPHA,
    Cell,
    Comparison,
    Ranking,
    Stat,
    TunedChoice,
    ranking,
    results_db,
    run_config,
    summarize,
    sweep_settings,
    tuned,
)
from optimlab.experiments.store import Store
from optimlab.experiments.sweep_plots import plot_sweep
from optimlab.io import atomic_write
from optimlab.train.loop import DIVERGENCE_FACTOR

Block = tuple[Any, ...]
FIGURE_TITLES = {
    "loss.png": "Training loss at each optimizer's tuned rate",
    "val_accuracy.png": "Validation accuracy at each optimizer's tuned rate",
    "lr_sensitivity.png": "Final validation accuracy against the learning rate",
    "time.png": "Training loss against wall-clock time",
}
CSS = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
    "th{background:#eee}code{background:#f4f4f4;padding:0 .2em}img{max-width:100%}"
)


def write_report(
    source: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None
) -> tuple[Path, Path]:
    """Draw the figures of a sweep and write ``report.md`` and ``report.html``.

    Parameters
    ----------
    source : path-like
        The sweep's output folder (holding ``results.db``) or the database itself.
    out_dir : path-like, optional
        Where the report and its figures go; the database's folder by default.

    Returns
    -------
    (Path, Path)
        The Markdown and the HTML report, each written atomically.
    """
    db = results_db(source)
    out = Path(out_dir) if out_dir is not None else db.parent
    with Store(db, readonly=True) as store:  # checked before any folder is made
        out.mkdir(parents=True, exist_ok=True)
        settings = sweep_settings(store)
        cells = summarize(store)
        figures = plot_sweep(store, out, cells=cells)
        runs = store.runs()
        invocations = [dict(r) for r in store.db.execute("SELECT * FROM invocations ORDER BY id")]
    blocks = report_blocks(settings, runs, cells, invocations, [f.name for f in figures])
    md_path, html_path = out / "report.md", out / "report.html"
    atomic_write(md_path, lambda f: f.write(to_markdown(blocks)))
    atomic_write(html_path, lambda f: f.write(to_html(blocks, out)))
    return md_path, html_path


# -- content --------------------------------------------------------------------------
def report_blocks(
    settings: Mapping[str, Any],
    runs: Sequence[Mapping[str, Any]],
    cells: Sequence[Cell],
    invocations: Sequence[Mapping[str, Any]],
    figures: Sequence[str],
) -> list[Block]:
    """The report as blocks: ``("h", level, text)``, ``("p", text)``, ``("ul", items)``,
    ``("table", headers, rows)``, ``("img", title, file name)``."""
    problem = settings.get("problem") or _values(r["problem"] for r in runs)
    choices = tuned(cells)
    blocks: list[Block] = [("h", 1, f"Sweep report: {problem}")]
    blocks += _configuration(settings, runs, choices, invocations)
    blocks += _tables(cells, choices)
    blocks += _tuning(settings, choices)
    blocks += _ranking(ranking(choices))
    blocks += _problems(runs, cells)
    blocks.append(("h", 2, "Figures"))
    blocks.append(
        (
            "p",
            "Curves: mean over seeds; bands: minimum to maximum over seeds. "
            "A diverged run's curve stops at its last finished epoch (×); "
            "later epochs average the seeds that reached them.",
        )
    )
    blocks += [("img", FIGURE_TITLES.get(name, name), name) for name in figures]
    return blocks


def _configuration(
    settings: Mapping[str, Any],
    runs: Sequence[Mapping[str, Any]],
    choices: Mapping[str, TunedChoice],
    invocations: Sequence[Mapping[str, Any]],
) -> list[Block]:
    configs = [run_config(r) for r in runs]
    counts = {s: sum(r["status"] == s for r in runs) for s in ("pending", "running")}
    items = [
        f"Problem: {settings.get('problem') or _values(r['problem'] for r in runs)}",
        f"Optimizers: {', '.join(choices) or 'none'}",
        *(
            f"Grid of {name}: {', '.join(f'{lr:g}' for lr in c.grid)}"
            for name, c in choices.items()
        ),
        f"Seeds: {_values(r['seed'] for r in runs)}",
        f"Epochs: {_values(r['epochs'] for r in runs)}",
        f"Batch size: {_values(c.get('batch_size') for c in configs)}",
        f"Schedule: {_values(c.get('schedule') for c in configs)}, "
        f"warmup {_values(c.get('warmup') for c in configs)}",
        f"Number of classes: {settings.get('num_classes', 'unknown')}; "
        f"target accuracy: {_target(settings.get('target_accuracy'))}",
        f"Runs: {len(runs)}, of which {counts['pending']} pending and {counts['running']} running"
        + (" (this report is partial)" if any(counts.values()) else ""),
    ]
    command = settings.get("command")
    if command:
        items.append(
            f"Command line: `{' '.join(command) if isinstance(command, list) else command}`"
        )
    for name in choices:
        hps = _values(r["hyperparameters"] for r in runs if r["optimizer"] == name)
        items.append(f"Hyperparameters of {name}: {hps}")
    blocks: list[Block] = [("h", 2, "Configuration"), ("ul", items)]
    if invocations:
        blocks.append(("p", "Invocations (versions):"))
        headers = ["started", "optimlab", "NumPy", "Python", "platform", "command line"]
        keys = [
            "started_at",
            "optimlab_version",
            "numpy_version",
            "python_version",
            "platform",
            "command_line",
        ]
        blocks.append(("table", headers, [[str(i[k]) for k in keys] for i in invocations]))
    return blocks


def _tables(cells: Sequence[Cell], choices: Mapping[str, TunedChoice]) -> list[Block]:
    target = next((c.target_accuracy for c in cells), None)
    blocks: list[Block] = [
        ("h", 2, "Results per optimizer"),
        (
            "p",
            "Mean ± sample standard deviation over seeds. Final training loss: done runs "
            "only (a diverged run's loss is infinite). Validation accuracies: done and "
            "diverged runs, a diverged run counting at chance (final) or at the best of "
            "chance and its finished epochs (best). Failed and unfinished runs are not "
            "scored.",
        ),
    ]
    headers = [
        "lr",
        "runs",
        "final train loss",
        "best val accuracy",
        "final val accuracy",
        f"epochs to {_target(target)}",
        "seconds",
    ]
    for name, choice in choices.items():
        rows = []
        for cell in (c for c in cells if c.optimizer == name):
            mark = " (tuned)" if cell is choice.cell and not choice.untuned else ""
            rows.append(
                [
                    f"{cell.lr:g}{mark}",
                    _counts(cell),
                    _fmt(cell.final_train_loss, "loss"),
                    _fmt(cell.best_val_accuracy, "pct"),
                    _fmt(cell.final_val_accuracy, "pct"),
                    _reach(cell),
                    _fmt(cell.seconds, "s"),
                ]
            )
        blocks += [("h", 3, name), ("table", headers, rows)]
    return blocks


def _tuning(settings: Mapping[str, Any], choices: Mapping[str, TunedChoice]) -> list[Block]:
    mode = settings.get("tune")
    intro = (
        "The rate --tune picks per optimizer: the best mean final validation accuracy "
        "over seeds, a diverged run scoring chance."
    )
    if mode is not None:
        intro += f" This sweep was run {'with' if mode else 'without'} --tune."
    rows = []
    for name, c in choices.items():
        if c.cell is None:
            rows.append([name, "—", f"{len(c.grid)} rates", "no finished run yet"])
            continue
        if c.untuned:
            note = "a single rate: not tuned"
        elif c.on_edge:
            note = (
                f"⚠ on the edge: the {c.edge} rate of the grid; the best rate may lie "
                "beyond it, extend the grid"
            )
        else:
            note = "inside the grid"
        rows.append([name, f"{c.lr:g}", f"{c.index + 1} of {len(c.grid)}", note])
    return [
        ("h", 2, "Tuned learning rates"),
        ("p", intro),
        ("table", ["optimizer", "rate", "position in grid", "note"], rows),
    ]


def _verdict(comparison: Comparison) -> str:
    test = comparison.test
    if test is None:
        return "a single seed: the noise cannot be judged"
    df = "—" if test.df is None else f"{test.df:.1f}"
    detail = (
        f"difference {100 * test.difference:+.2f} points, standard error "
        f"{100 * test.standard_error:.2f}; Welch t = {test.t:.2f}, df = {df}, "
        f"p = {test.p:.3g}"
    )
    if test.within_noise:
        return f"{detail}: within the noise of the seeds (p ≥ {ALPHA:g})"
    return f"{detail}: a real difference at the {100 * ALPHA:g}% level"


def _ranking(rank: Ranking) -> list[Block]:
    blocks: list[Block] = [
        ("h", 2, "Ranking"),
        (
            "p",
            "By mean best validation accuracy at each optimizer's tuned rate. Adjacent "
            f"optimizers are compared with Welch's t-test (two-sided, {100 * ALPHA:g}%); "
            "with few seeds only large differences are detectable, so 'within the noise' "
            "does not mean 'equal'.",
        ),
    ]
    rows = [
        [str(i + 1), c.optimizer, f"{c.lr:g}", _fmt(c.best_val_accuracy, "pct")]
        for i, c in enumerate(rank.order)
    ]
    blocks.append(("table", ["rank", "optimizer", "rate", "best val accuracy"], rows))
    blocks.append(("ul", [f"{c.better} vs {c.worse}: {_verdict(c)}" for c in rank.adjacent]))
    if rank.order:
        best, tied = rank.order[0].optimizer, rank.tied_for_first
        if len(tied) > 1:
            text = (
                f"Tied for first: {', '.join(tied)} ({', '.join(tied[1:])} not "
                f"distinguishable from {best}, the best mean, at the {100 * ALPHA:g}% level)"
            )
        elif len(rank.order) == 1:
            text = f"First: {best} (the only ranked optimizer)"
        elif len(rank.undetermined) < len(rank.order) - 1:
            text = f"First: {best} (better than every other optimizer judged, beyond the noise)"
        else:
            text = f"First: {best}"
        if rank.undetermined:
            text += f". Cannot be judged against the best: {', '.join(rank.undetermined)}"
        blocks.append(("p", text + "."))
    if rank.unranked:
        blocks.append(("p", f"Not ranked (no scored run): {', '.join(rank.unranked)}."))
    return blocks


def _problems(runs: Sequence[Mapping[str, Any]], cells: Sequence[Cell]) -> list[Block]:
    diverged_at = {r.run_id: r.diverged_at for c in cells for r in c.runs}
    rows = []
    for run in runs:
        if run["status"] == "diverged":
            what = f"diverged in epoch {diverged_at.get(run['run_id'])}"
            what += f" ({_one_line(run['error'])})" if run["error"] else ""
        elif run["status"] == "failed":
            what = _one_line(run["error"] or "no error message")
        else:
            continue
        rows.append(
            [
                run["run_id"],
                run["optimizer"],
                f"{run['lr']:g}",
                str(run["seed"]),
                run["status"],
                what,
            ]
        )
    blocks: list[Block] = [
        ("h", 2, "Diverged and failed runs"),
        ("p", f"A run diverged when a training or validation loss was not finite, or when an "
              f"epoch's training loss exceeded {DIVERGENCE_FACTOR:g} times the first epoch's; "
              "it is scored at chance from there on."),
    ]  # fmt: skip
    if not rows:
        return [*blocks, ("p", "None.")]
    headers = ["run", "optimizer", "lr", "seed", "status", "epoch diverged / error"]
    return [*blocks, ("table", headers, rows)]


# -- formatting -----------------------------------------------------------------------
def _values(values: Iterable[Any]) -> str:
    distinct = {v if isinstance(v, str) else json.dumps(v) for v in values if v is not None}
    return ", ".join(sorted(distinct, key=lambda v: (len(v), v))) or "unknown"


def _target(target: float | None) -> str:
    return "unknown" if target is None else f"{100 * target:g}%"


def _fmt(stat: Stat, kind: str) -> str:
    if not stat.n:
        return "—"
    scale, digits, unit = {"pct": (100, 2, " %"), "loss": (1, 4, ""), "s": (1, 1, "")}[kind]
    text = f"{scale * stat.mean:.{digits}f}"
    if stat.std is not None:
        text += f" ± {scale * stat.std:.{digits}f}"
    return text + unit + (f" (n={stat.n})" if stat.n == 1 else "")


def _counts(cell: Cell) -> str:
    order = ("done", "diverged", "failed", "running", "pending")
    return ", ".join(f"{cell.counts[s]} {s}" for s in order if cell.counts.get(s))


def _reach(cell: Cell) -> str:
    if cell.target_accuracy is None:
        return "—"
    if not cell.reached:
        return f"never (0 of {cell.scored})"
    return f"{cell.epochs_to_target.mean:.1f} ({cell.reached} of {cell.scored} reached)"


def _one_line(text: str, limit: int = 200) -> str:
    """Errors can be tracebacks: one line, shortened (the database keeps the whole text)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- rendering ------------------------------------------------------------------------
#: Markdown code spans: what the report's own text writes between backticks.
CODE_SPAN = re.compile(r"(`[^`]*`)")


def _md_text(text: str) -> str:
    """``text`` safe in Markdown, whatever the database put in it: outside code spans,
    ``& < >`` become entities (no raw HTML) and ``* [ ] \\`` are escaped (no emphasis,
    no links); inside a code span nothing is interpreted anyway."""
    parts = CODE_SPAN.split(text)
    for i in range(0, len(parts), 2):  # the even parts are outside code spans
        part = parts[i].replace("\\", "\\\\")
        part = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        parts[i] = re.sub(r"([*\[\]])", r"\\\1", part)
    return "".join(parts)


def _md_cell(text: str) -> str:
    return _md_text(text).replace("|", "\\|")


def to_markdown(blocks: Sequence[Block]) -> str:
    """Render blocks as Markdown (figures as relative links to their PNG files)."""
    parts = []
    for kind, *rest in blocks:
        if kind == "h":
            parts.append(f"{'#' * rest[0]} {_md_text(rest[1])}")
        elif kind == "p":
            parts.append(_md_text(rest[0]))
        elif kind == "ul":
            parts.append("\n".join(f"- {_md_text(item)}" for item in rest[0]))
        elif kind == "table":
            headers, rows = rest
            lines = ["| " + " | ".join(map(_md_cell, headers)) + " |", "|" + "---|" * len(headers)]
            lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in rows]
            parts.append("\n".join(lines))
        elif kind == "img":
            parts.append(f"![{rest[0]}]({rest[1]})")
    return "\n\n".join(parts) + "\n"


def _inline(text: str) -> str:
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text))


def to_html(blocks: Sequence[Block], folder: Path) -> str:
    """Render blocks as one HTML page; figures are read from ``folder`` and embedded."""
    parts = []
    for kind, *rest in blocks:
        if kind == "h":
            parts.append(f"<h{rest[0]}>{_inline(rest[1])}</h{rest[0]}>")
        elif kind == "p":
            parts.append(f"<p>{_inline(rest[0])}</p>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in rest[0]) + "</ul>")
        elif kind == "table":
            headers, rows = rest
            head = "".join(f"<th>{_inline(h)}</th>" for h in headers)
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif kind == "img":
            data = base64.b64encode((folder / rest[1]).read_bytes()).decode("ascii")
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" '
                f'alt="{html.escape(rest[0])}"><figcaption>{html.escape(rest[0])}'
                "</figcaption></figure>"
            )
    title = html.escape(next((b[2] for b in blocks if b[0] == "h"), "Sweep report"))
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )

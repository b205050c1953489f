"""The report of a sweep: ``OUT/report.md`` and a self-contained ``OUT/report.html``.

Both are rendered from one list of blocks (headings, paragraphs, lists,
tables, figures), so they say the same thing. Every figure the report draws is in
both, with a caption saying how to read it. The HTML embeds its figures at full
resolution as base64 ``data:`` URIs (shrunk to the page width when wider, each a
link to its PNG file beside the report) and its CSS inline: it loads nothing from
anywhere. The statistical rules are those of :mod:`optimlab.experiments.analysis`.
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
    Cell,
    Stat,
    TunedChoice,
    results_db,
    run_config,
    summarize,
    sweep_settings,
    tuned,
)
from optimlab.experiments.metric import Metric
from optimlab.experiments.protocol_report import (
    BEST_OF_K,
    ProtocolSummary,
    best_of_k_caption,
    plot_best_of_k,
    protocol_blocks,
    protocol_summary,
)
from optimlab.experiments.store import Store
from optimlab.experiments.sweep_plots import caption, figure_names, plot_sweep, sweep_colors
from optimlab.experiments.sweep_verdicts import (
    DEFAULT_CONFIDENCE,
    DEFAULT_METRIC,
    MIRROR,
    Group,
    SweepVerdicts,
    check_options,
    in_group,
    per_seed,
    store_verdicts,
    write_verdicts,
)
from optimlab.experiments.verdict_plots import CAPTION as VERDICT_CAPTION
from optimlab.experiments.verdict_plots import COLORS, figure_name, plot_verdicts, verdict_grid
from optimlab.experiments.verdicts import ALPHA
from optimlab.io import atomic_write
from optimlab.train.loop import DIVERGENCE_FACTOR

Block = tuple[Any, ...]
FIGURE_TITLES = {
    "loss.png": "Training loss at each optimizer's tuned rate",
    "val_accuracy.png": "Validation accuracy at each optimizer's tuned rate",
    "val_loss.png": "Validation loss at each optimizer's tuned rate",
    "lr_sensitivity.png": "The final validation value against the learning rate",
    "time.png": "Training loss against wall-clock time",
    BEST_OF_K: "Expected best validation value after k trials",
}
CSS = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}"
    "th{background:#eee}code{background:#f4f4f4;padding:0 .2em}"
    "figure{margin:1.5em 0}img{max-width:100%;height:auto}"
    "figcaption{font-size:.9em;color:#444;margin-top:.3em}"
)


def write_report(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    metric: str = DEFAULT_METRIC,
    rope: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> tuple[Path, Path]:
    """Draw the figures of a sweep and write ``report.md``, ``report.html`` and
    ``verdicts.json`` (see :mod:`optimlab.experiments.sweep_verdicts` for ``metric``,
    ``rope`` and ``confidence``).

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
    check_options(metric, rope, confidence)
    db = results_db(source)
    out = Path(out_dir) if out_dir is not None else db.parent
    with Store(db, readonly=True) as store:  # checked before any folder is made
        settings = sweep_settings(store)
        cells = summarize(store)
        verdicts = store_verdicts(store, metric=metric, rope=rope, confidence=confidence)
        out.mkdir(parents=True, exist_ok=True)
        protocol = protocol_summary(store, cells)
        colors = sweep_colors(store)  # one colour per optimizer in every figure
        figures = plot_sweep(store, out, cells=cells, colors=colors)
        figures += plot_verdicts(verdicts, out, colors=colors)
        if protocol is not None:
            best = plot_best_of_k(protocol, out, colors)
            figures += [best] if best is not None else []
        runs = store.runs()
        invocations = [dict(r) for r in store.db.execute("SELECT * FROM invocations ORDER BY id")]
    write_verdicts(verdicts, out / "verdicts.json")
    blocks = report_blocks(settings, runs, cells, invocations, [f.name for f in figures], verdicts,
                           protocol)  # fmt: skip
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
    verdicts: SweepVerdicts | None = None,
    protocol: ProtocolSummary | None = None,
    captions: Mapping[str, str] | None = None,
) -> list[Block]:
    """The report as blocks: ``("h", level, text)``, ``("p", text)``, ``("ul", items)``,
    ``("table", headers, rows)``, ``("img", title, file name, caption)``, ``("matrix",
    names, grid)`` (a verdict matrix, coloured in the HTML). ``protocol``: a tuning
    protocol's sweep (:func:`~optimlab.experiments.protocol_report.protocol_summary`),
    whose trials and tuned configurations replace the grid's tables.

    Every name of ``figures`` becomes a figure block: the verdict matrices in their
    section, the others under "Figures". ``captions`` gives the title-less caption of a
    figure this module does not know (e.g. ``{"diagnostics-grad_rms.png": "..."}``); a
    figure without one is captioned by its file name."""
    problem = settings.get("problem") or _values(r["problem"] for r in runs)
    choices = tuned(cells)
    metric = cells[0].metric if cells else Metric.from_settings(settings)
    blocks: list[Block] = [("h", 1, f"Sweep report: {problem}")]
    blocks += _configuration(settings, runs, choices, invocations, metric, protocol is None)
    if protocol is None:
        blocks += _tables(cells, choices, metric)
        blocks += _tuning(settings, choices, metric)
    else:
        blocks += protocol_blocks(protocol, cells)
    blocks += _verdicts(verdicts, figures)
    blocks += _problems(runs, cells, metric)
    blocks.append(("h", 2, "Figures"))
    blocks.append(
        (
            "p",
            "Curves: mean over seeds; bands: minimum to maximum over seeds. "
            "A diverged run's curve stops at its last finished epoch (×); "
            "later epochs average the seeds that reached them.",
        )
    )
    known = dict(captions or {})
    known.update({name: caption(name, metric) for name in figure_names(metric)})
    if protocol is not None:
        known[BEST_OF_K] = best_of_k_caption(protocol)
    for name in figures:
        if not name.startswith("verdicts"):
            blocks.append(("img", FIGURE_TITLES.get(name, name), name, known.get(name, name)))
    return blocks


def _configuration(
    settings: Mapping[str, Any],
    runs: Sequence[Mapping[str, Any]],
    choices: Mapping[str, TunedChoice],
    invocations: Sequence[Mapping[str, Any]],
    metric: Metric,
    grid: bool = True,
) -> list[Block]:
    configs = [run_config(r) for r in runs]
    counts = {s: sum(r["status"] == s for r in runs) for s in ("pending", "running")}
    items = [
        f"Problem: {settings.get('problem') or _values(r['problem'] for r in runs)}",
        f"Optimizers: {', '.join(choices) or 'none'}",
        *(
            f"Grid of {name}: {', '.join(f'{lr:g}' for lr in c.grid)}"
            for name, c in choices.items()
            if grid
        ),
        f"Seeds: {_values(r['seed'] for r in runs)}",
        f"Epochs: {_values(r['epochs'] for r in runs)}",
        f"Batch size: {_values(c.get('batch_size') for c in configs)}",
        f"Schedule: {_values(c.get('schedule') for c in configs)}, "
        f"warmup {_values(c.get('warmup') for c in configs)}",
        f"Metric: {metric.label('val')} ({'higher' if metric.higher_is_better else 'lower'} "
        f"is better); target: {_target(metric.target, metric)}"
        + (
            f"; number of classes: {settings.get('num_classes', 'unknown')}"
            if metric.is_accuracy
            else ""
        ),
        f"Runs: {len(runs)}, of which {counts['pending']} pending and {counts['running']} running"
        + (" (this report is partial)" if any(counts.values()) else ""),
    ]
    command = settings.get("command")
    if command:
        items.append(
            f"Command line: `{' '.join(command) if isinstance(command, list) else command}`"
        )
    for name in choices if grid else ():  # a protocol's: in its trials table
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


def _tables(
    cells: Sequence[Cell], choices: Mapping[str, TunedChoice], metric: Metric
) -> list[Block]:
    name = metric.name
    blocks: list[Block] = [
        ("h", 2, "Results per optimizer"),
        (
            "p",
            "Mean ± sample standard deviation over seeds. Final training loss: done runs "
            f"only (a diverged run's loss is infinite). Validation and test {name}: done and "
            f"diverged runs, a diverged run counting at {metric.worst_word} (final) or at the "
            f"better of that and its finished epochs (best). The test {name} is measured "
            "after the last epoch on the official test set and never used to choose "
            "anything. Failed and unfinished runs are not scored. Time to target: the first "
            "epoch whose validation value reached the target, in epochs, optimizer steps and "
            "seconds of training (mean over the seeds that reached it).",
        ),
    ]
    target = _target(metric.target, metric)
    headers = [
        "lr", "runs", "final train loss", f"best val {name}", f"final val {name}",
        f"final test {name}", f"epochs to {target}", "steps to target", "seconds to target",
        "seconds",
    ]  # fmt: skip
    kind = "pct" if metric.is_accuracy else "loss"
    for optimizer, choice in choices.items():
        rows = []
        for cell in (c for c in cells if c.optimizer == optimizer):
            mark = " (tuned)" if cell is choice.cell and not choice.untuned else ""
            rows.append(
                [
                    f"{cell.lr:g}{mark}",
                    _counts(cell),
                    _fmt(cell.final_train_loss, "loss"),
                    _fmt(cell.best_val, kind),
                    _fmt(cell.final_val, kind),
                    _fmt(cell.test, kind),
                    _reach(cell),
                    _fmt(cell.steps_to_target, "n"),
                    _fmt(cell.seconds_to_target, "s"),
                    _fmt(cell.seconds, "s"),
                ]
            )
        blocks += [("h", 3, optimizer), ("table", headers, rows)]
    return blocks


def _tuning(
    settings: Mapping[str, Any], choices: Mapping[str, TunedChoice], metric: Metric
) -> list[Block]:
    mode = settings.get("tune")
    kind = "pct" if metric.is_accuracy else "loss"
    intro = (
        f"The rate --tune picks per optimizer: the best mean final {metric.label('val')} "
        f"over seeds ({'highest' if metric.higher_is_better else 'lowest'}), a diverged run "
        f"scoring {metric.worst_word}. Rates are chosen on validation only; the test "
        f"{metric.name} is shown at the rate chosen, and was not used to choose it."
    )
    if mode is not None:
        intro += f" This sweep was run {'with' if mode else 'without'} --tune."
    rows = []
    for name, c in choices.items():
        if c.cell is None:
            rows.append([name, "—", f"{len(c.grid)} rates", "—", "—", "no finished run yet"])
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
        rows.append([name, f"{c.lr:g}", f"{c.index + 1} of {len(c.grid)}",
                     _fmt(c.cell.final_val, kind), _fmt(c.cell.test, kind), note])  # fmt: skip
    headers = ["optimizer", "rate", "position in grid", f"final val {metric.name} (chose it)",
               f"test {metric.name} at that rate", "note"]  # fmt: skip
    return [
        ("h", 2, "Tuned learning rates"),
        ("p", intro),
        ("table", headers, rows),
    ]


def _verdicts(result: SweepVerdicts | None, figures: Sequence[str]) -> list[Block]:
    blocks: list[Block] = [("h", 2, "Ranking and verdicts")]
    if result is None or not result.groups:
        return [*blocks, ("p", "No optimizer has a scored run yet.")]
    made = sum(c.p is not None for c in result.comparisons)
    rates = {
        "tuned": "each optimizer at its tuned rate (chosen on the final validation value)",
        "shared": "at each rate both optimizers ran (this sweep was run without --tune)",
        "only": "each optimizer at the one rate it ran (this sweep was run without --tune)",
    }[result.rates]
    fewest = min((c.seeds for c in result.comparisons if c.p is not None), default=0)
    floor = (
        f" (with {fewest} seeds it cannot go below {2 / 2**fewest:.3g})" if 0 < fewest <= 13 else ""
    )
    blocks.append(
        (
            "p",
            f"Optimizers ranked by mean {_metric_words(result.metric)} "
            f"over seeds, {rates}. Every pair is compared on the per-seed differences "
            "(paired by seed: seed k gives every optimizer the same split, initial weights "
            "and batch order; unpaired, with Welch's test, when the seeds differ): the mean "
            f"difference, a {100 * result.confidence:g}% bootstrap interval (BCa; percentile "
            "where BCa cannot be computed), the paired t-test's p-value, and that p adjusted "
            f"for the {made} comparisons made (Holm); the exact sign-flip permutation p is "
            f"given beside them{floor}. Verdicts: 'better' or 'worse' when the adjusted p is "
            f"below {ALPHA:g} and the interval excludes 0; 'equivalent' when the whole "
            f"interval lies within ±{_rope_words(result)} (the region of practical "
            "equivalence, --rope); 'undetermined' otherwise, with the number of seeds that "
            "would resolve the observed difference (or the ROPE, if larger) at 80% power even "
            f"at Holm's strictest level ({ALPHA:g} / {max(made, 1)}).",
        )
    )
    several = len(result.groups) > 1
    for group in result.groups:
        if several:
            blocks.append(("h", 3, f"Verdicts {group.label}"))
        blocks += _group_blocks(result, group, figures, several)
    if result.not_compared:
        pairs = ", ".join(f"{a} and {b}" for a, b in result.not_compared)
        blocks.append(
            ("p", f"Not compared (no rate in common; run with --tune to compare at tuned "
                  f"rates): {pairs}.")
        )  # fmt: skip
    return blocks


def _metric_words(name: str) -> str:
    """``best_val_accuracy`` -> "best validation accuracy (the best epoch of each run)"..."""
    kind, _, measure = name.partition("_val_") if "_val_" in name else name.partition("_")
    if kind == "best":
        return f"best validation {measure} (the best epoch of each run)"
    if kind == "final":
        return f"final validation {measure}"
    if kind == "test":
        return f"final test {measure} (at the rates chosen on validation)"
    return name


def _is_accuracy(result: SweepVerdicts) -> bool:
    return result.metric.endswith("accuracy")


def _rope_words(result: SweepVerdicts) -> str:
    if _is_accuracy(result):
        return f"{100 * result.rope:g} points"
    return f"{result.rope:.4g} (in units of the loss)"


def _group_blocks(
    result: SweepVerdicts, group: Group, figures: Sequence[str], several: bool
) -> list[Block]:
    names = list(group.cells)
    first = names[0]
    # The verdict of each other optimizer against the first (``against`` gives the first's).
    versus = {o: (MIRROR[v], c) for o, v, c in result.against(first, group)}
    rows = []
    for i, name in enumerate(names):
        cell = group.cells[name]
        values = list(per_seed(cell, result.key).values())
        verdict = "—" if name == first else versus[name][0] + f" than {first}"
        if name != first and versus[name][0] in ("equivalent", "undetermined"):
            verdict = f"{versus[name][0]} (against {first})"
        rows.append(
            [str(i + 1), name, f"{cell.lr:g}",
             _fmt(Stat(tuple(values)), "pct" if _is_accuracy(result) else "loss"),
             str(len(values)), verdict]
        )  # fmt: skip
    blocks: list[Block] = [
        ("table", ["rank", "optimizer", "rate", "mean ± sd", "seeds", "verdict"], rows)
    ]
    if len(names) > 1:
        tied = [o for o, (v, _) in versus.items() if v in ("equivalent", "undetermined")]
        equal = [o for o, (v, _) in versus.items() if v == "equivalent"]
        open_ = [o for o, (v, _) in versus.items() if v == "undetermined"]
        above = [o for o, (v, _) in versus.items() if v == "better"]  # better than the first
        if above:  # the best mean is not always the one nothing beats
            text = f"Best mean: {first}; better than it: {', '.join(above)}"
        elif not tied:
            text = f"First: {first}, better than every other optimizer"
        else:
            text = f"Tied for first: {', '.join([first, *tied])}"
            detail = []
            if equal:
                detail.append(f"equivalent to {first}: {', '.join(equal)}")
            if open_:
                detail.append(f"undetermined against {first}: {', '.join(open_)}")
            text += f" ({'; '.join(detail)})"
        blocks.append(("p", text + "."))
        blocks.append(("ul", [result.sentence(name, group) for name in names]))
        name = figure_name(group, several)
        if name in figures:
            blocks.append(("img", f"Verdict matrix {group.label}", name, VERDICT_CAPTION))
        blocks.append(("matrix", names, verdict_grid(result, group)))
        blocks.append(("table", *_pair_table(result, group)))
    return blocks


def _pair_table(result: SweepVerdicts, group: Group) -> tuple[list[str], list[list[str]]]:
    # accuracy in points to 3 decimals; a loss in its own units, 4 significant digits
    scale, fmt = (100.0, "{:+.3f}") if _is_accuracy(result) else (1.0, "{:+.4g}")
    headers = [
        "a",
        "b",
        "a − b (points)" if _is_accuracy(result) else "a − b",
        f"{100 * result.confidence:g}% interval",
        "p",
        "p (Holm)",
        "p (sign flip)",
        "P(a better)",
        "verdict",
        "seeds",
        "seeds needed",
    ]
    rows = []
    for c in result.comparisons:
        if not in_group(c, group):
            continue
        rows.append(
            [
                c.a, c.b, _num(c.difference, fmt, scale),
                "—" if c.ci[0] is None else
                f"[{_num(c.ci[0], fmt, scale)}, {_num(c.ci[1], fmt, scale)}]",
                _num(c.p, "{:.3g}"), _num(c.p_adjusted, "{:.3g}"), _num(c.p_permutation, "{:.3g}"),
                _num(c.p_improvement, "{:.2f}"),
                c.verdict + ("" if c.paired or c.p is None else " (unpaired)"),
                str(c.seeds), "—" if c.seeds_needed is None else str(c.seeds_needed),
            ]
        )  # fmt: skip
    return headers, rows


def _num(value: float | None, fmt: str, scale: float = 1.0) -> str:
    return "—" if value is None else fmt.format(scale * value)


def _problems(
    runs: Sequence[Mapping[str, Any]], cells: Sequence[Cell], metric: Metric
) -> list[Block]:
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
              f"it is scored at {metric.worst_word} from there on."),
    ]  # fmt: skip
    if not rows:
        return [*blocks, ("p", "None.")]
    headers = ["run", "optimizer", "lr", "seed", "status", "epoch diverged / error"]
    return [*blocks, ("table", headers, rows)]


# -- formatting -----------------------------------------------------------------------
def _values(values: Iterable[Any]) -> str:
    distinct = {v if isinstance(v, str) else json.dumps(v) for v in values if v is not None}
    return ", ".join(sorted(distinct, key=lambda v: (len(v), v))) or "unknown"


def _target(target: float | None, metric: Metric | None = None) -> str:
    if target is None:
        return "unknown"
    if metric is not None and not metric.is_accuracy:
        return f"{target:g}"
    return f"{100 * target:g}%"


def _fmt(stat: Stat, kind: str) -> str:
    if not stat.n:
        return "—"
    scale, digits, unit = {"pct": (100, 2, " %"), "loss": (1, 4, ""), "s": (1, 1, ""),
                           "n": (1, 0, "")}[kind]  # fmt: skip
    text = f"{scale * stat.mean:.{digits}f}"
    if stat.std is not None:
        text += f" ± {scale * stat.std:.{digits}f}"
    return text + unit + (f" (n={stat.n})" if stat.n == 1 else "")


def _counts(cell: Cell) -> str:
    order = ("done", "diverged", "failed", "running", "pending")
    return ", ".join(f"{cell.counts[s]} {s}" for s in order if cell.counts.get(s))


def _reach(cell: Cell) -> str:
    if cell.metric.target is None:
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
            text = f"![{_md_text(rest[0])}]({rest[1]})"
            if len(rest) > 2 and rest[2]:
                text += f"\n\n*{_md_text(rest[0])}.* {_md_text(rest[2])}"
            parts.append(text)
        elif kind == "matrix":
            names, grid = rest
            lines = ["| row against column | " + " | ".join(map(_md_cell, names)) + " |",
                     "|" + "---|" * (len(names) + 1)]  # fmt: skip
            lines += [
                f"| {_md_cell(name)} | " + " | ".join(v or "—" for v in row) + " |"
                for name, row in zip(names, grid, strict=True)
            ]
            parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _inline(text: str) -> str:
    return re.sub(r"`([^`]*)`", r"<code>\1</code>", html.escape(text))


def _html_matrix(names: Sequence[str], grid: Sequence[Sequence[str]]) -> str:
    """The verdict matrix as an HTML table, each cell coloured as in the PNG."""
    head = "<th>row against column</th>" + "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = ""
    for name, row in zip(names, grid, strict=True):
        cells = "".join(
            f'<td class="verdict" style="background:{COLORS[v]}">{v}</td>' if v else "<td>—</td>"
            for v in row
        )
        body += f"<tr><th>{html.escape(name)}</th>{cells}</tr>"
    return f'<table class="verdicts"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _html_figure(folder: Path, title: str, name: str, caption: str = "") -> str:
    """A figure at full resolution (CSS shrinks it to the page width when wider), a link
    to its file for the full size, and its caption."""
    data = base64.b64encode((folder / name).read_bytes()).decode("ascii")
    words = (
        f"<strong>{html.escape(title)}.</strong> {_inline(caption)}"
        if caption
        else (html.escape(title))
    )
    return (
        f'<figure><a href="{html.escape(name)}"><img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(title)}"></a><figcaption>{words}</figcaption></figure>'
    )


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
        elif kind == "matrix":
            parts.append(_html_matrix(*rest))
        elif kind == "img":
            parts.append(_html_figure(folder, *rest))
    title = html.escape(next((b[2] for b in blocks if b[0] == "h"), "Sweep report"))
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )

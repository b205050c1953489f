"""The files of ``optimlab trajectories``: valid images, the right GIF frames, summary.json."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from optimlab.cli import main
from optimlab.problems import get_function
from optimlab.trajectories import run, save_outputs
from optimlab.trajectories.plots import frame_steps

OPTIMLAB = str(Path(sys.executable).with_name("optimlab"))


def check_png(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()
    with Image.open(path) as image:
        image.load()
        assert image.size[0] > 200 and image.size[1] > 200
        assert len(np.unique(np.asarray(image.convert("L")))) > 20  # a drawing, not a blank canvas
        return image.size


def gif_frames(path: Path) -> int:
    with Image.open(path) as image:
        assert image.format == "GIF" and image.is_animated
        return image.n_frames


@pytest.mark.parametrize(("steps", "frames", "expected"), [(30, 10, 10), (5, 100, 6), (1, 2, 2)])
def test_frame_steps_span_the_run(steps, frames, expected):
    shown = frame_steps(steps, frames)
    assert len(shown) == expected and shown[0] == 0 and shown[-1] == steps
    assert shown == sorted(set(shown))


def test_frame_steps_refuses_fewer_than_two():
    with pytest.raises(ValueError, match=r"frames must be >= 2; received frames=1"):
        frame_steps(10, 1)


@pytest.mark.parametrize(("frames", "fps"), [(10, 0), (10, 51), (10, 2.5), (1, 10)])
def test_bad_animation_settings_write_nothing(tmp_path, frames, fps):
    runs = run("quadratic", ["sgd"], steps=5, lrs=0.1)
    with pytest.raises(ValueError, match=r"(frames|fps) must be"):
        save_outputs(tmp_path / "out", runs, frames=frames, fps=fps)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("name", "start"), [("quadratic", (0.0, 0.0)), ("saddle", (0.0, 0.0))])
def test_a_run_started_at_its_target_plots_without_warnings(tmp_path, name, start):
    import warnings

    runs = run(name, ["sgd"], steps=5, lrs=0.1, start=start)
    assert np.all(runs["sgd"].distances == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = save_outputs(tmp_path, runs, frames=3)
    check_png(paths["convergence.png"])


def test_negative_start_and_rates_parse_in_every_notation(tmp_path):
    for start in ("-1.,2", "-1E-1,2", "-.5,-.5"):
        out = tmp_path / start
        assert main(["trajectories", "--optimizers", "sgd", "--steps", "3", "--frames", "2",
                     "--start", start, "--out", str(out)]) == 0  # fmt: skip
        x, y = json.loads((out / "summary.json").read_text())["start"]
        assert (x, y) == tuple(float(v) for v in start.split(","))


def test_a_plugin_registers_an_optimizer_for_the_command(tmp_path):
    plugin = tmp_path / "my_sign.py"
    plugin.write_text(
        "import numpy as np\n"
        "from optimlab import optim\n"
        "from optimlab.optim.base import chain\n"
        "from optimlab.optim.transforms import ScaleByLearningRate\n"
        "class Sign:\n"
        "    def init(self, params):\n"
        "        return {}\n"
        "    def update(self, updates, state, params):\n"
        "        return [np.sign(u) for u in updates]\n"
        "def plugin_sign(lr):\n"
        "    return chain(Sign(), ScaleByLearningRate(lr))\n"
        "if 'plugin-sign' not in optim.OPTIMIZERS:\n"
        "    optim.register('plugin-sign', plugin_sign, defaults={'lr': 0.01})\n"
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [OPTIMLAB, "trajectories", "--plugin", str(plugin), "--function", "quadratic",
         "--optimizers", "plugin-sign,sgd", "--steps", "4", "--lrs", "0.1", "--start", "1,-1",
         "--frames", "2", "--out", str(out)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimizers"]["plugin-sign"]["final_point"] == pytest.approx([0.6, -0.6])


@pytest.mark.parametrize("name", ["rosenbrock", "saddle", "styblinski-tang"])
def test_save_outputs_writes_valid_images_and_summary(tmp_path, name):
    f = get_function(name)
    runs = run(f, ["sgd", "momentum", "adam"], steps=40, tune=True, grid=(1e-3, 1e-2, 1e-1))
    tunings = runs.tunings
    paths = save_outputs(tmp_path / "out", runs, frames=12)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(paths)
    check_png(paths["trajectories.png"])
    check_png(paths["convergence.png"])
    assert gif_frames(paths["trajectories.gif"]) == 12
    summary = json.loads(paths["summary.json"].read_text())
    assert summary["function"] == name and summary["steps"] == 40 and summary["tuned"]
    assert summary["frames"] == 12
    for opt, path in runs.items():
        record = summary["optimizers"][opt]
        assert record["lr"] == path.lr == tunings[opt].best_lr
        assert record["tuning"]["grid"] == [1e-3, 1e-2, 1e-1]
        if path.diverged:
            assert record["final_value"] is None
        else:
            assert record["final_value"] == pytest.approx(path.final_value)
            assert record["final_distance"] == pytest.approx(path.final_distance)


def test_gif_has_one_frame_per_step_when_the_run_is_short(tmp_path):
    f = get_function("quadratic", noise=0.3, seed=1)
    runs = run(f, ["nesterov"], steps=7, lrs=0.05)
    paths = save_outputs(tmp_path, runs)
    assert gif_frames(paths["trajectories.gif"]) == 8
    summary = json.loads(paths["summary.json"].read_text())
    assert summary["noise"] == 0.3 and summary["seed"] == 1 and not summary["tuned"]


def test_gif_frames_show_the_paths_moving(tmp_path):
    runs = run("beale", ["adam"], steps=60, lrs=0.05)
    paths = save_outputs(tmp_path, runs, frames=5)
    with Image.open(paths["trajectories.gif"]) as image:
        frames = []
        for k in range(image.n_frames):
            image.seek(k)
            frames.append(np.asarray(image.convert("RGB"), dtype=np.int16))
    changes = [np.abs(b - a).sum() for a, b in itertools.pairwise(frames)]
    assert all(c > 0 for c in changes)


def test_the_issue_command_through_the_console_script(tmp_path):
    out = tmp_path / "rosen"
    cmd = [
        OPTIMLAB, "trajectories", "--function", "rosenbrock",
        "--optimizers", "sgd,momentum,nesterov,adam,qhadam,demon-adam",
        "--steps", "60", "--lrs", "1e-3,1e-3,1e-3,0.05,0.05,0.05", "--start", "-1.5,2",
        "--frames", "10", "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "rosenbrock, 60 steps from (-1.5, 2)" in proc.stdout
    check_png(out / "trajectories.png")
    check_png(out / "convergence.png")
    assert gif_frames(out / "trajectories.gif") == 10
    summary = json.loads((out / "summary.json").read_text())
    assert summary["start"] == [-1.5, 2.0]
    assert [summary["optimizers"][n]["lr"] for n in ("sgd", "adam")] == [1e-3, 0.05]


def test_tune_prints_and_stores_the_chosen_rates(tmp_path, capsys):
    out = tmp_path / "tuned"
    code = main([
        "trajectories", "--function", "quadratic", "-p", "condition=20", "--optimizers",
        "sgd,adam", "--steps", "50", "--tune", "--lrs", "0.001,0.01,0.09", "--frames", "3",
        "--out", str(out),
    ])  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    printed = capsys.readouterr().out
    for name in ("sgd", "adam"):
        record = summary["optimizers"][name]
        assert record["tuning"]["best_lr"] == record["lr"]
        assert record["lr"] == min(
            record["tuning"]["grid"], key=lambda lr: record["tuning"]["final_values"][f"{lr:g}"]
        )
        line = next(row for row in printed.splitlines() if row.startswith(name + " "))
        assert f"{record['lr']:.3g}" in line
    assert summary["optimizers"]["sgd"]["lr"] == 0.09  # largest stable rate: 2 / 20 = 0.1
    assert "edge of the grid" in printed


def test_overrides_reach_the_named_optimizer_only(tmp_path):
    out = tmp_path / "o"
    code = main([
        "trajectories", "--function", "beale", "--optimizers", "qhadam,adam", "--steps", "5",
        "-o", "qhadam.nus=0.7,1.0", "-o", "eps=1e-6", "--frames", "2", "--out", str(out),
    ])  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimizers"]["qhadam"]["hyperparameters"] == {"nus": [0.7, 1.0], "eps": 1e-6}
    assert summary["optimizers"]["adam"]["hyperparameters"] == {"eps": 1e-6}


def test_list_functions(capsys):
    assert main(["trajectories", "--list-functions"]) == 0
    printed = capsys.readouterr().out
    for name in ("rosenbrock", "beale", "himmelblau", "rastrigin", "styblinski-tang",
                 "quadratic", "saddle"):  # fmt: skip
        assert printed.count(name + ":") == 1
    assert "parameters: condition, angle" in printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--function", "rosenbrok"],
            "unknown test function 'rosenbrok'; did you mean 'rosenbrock'",
        ),
        (["--optimizers", "sgd,adma"], "unknown optimizer 'adma'"),
        (["--start", "3,3"], "start (3, 3) is outside the window x in [-2, 2], y in [-1, 3]"),
        (["--start", "-9.5,2"], "start (-9.5, 2) is outside the window"),
        (["--steps", "0"], "steps must be an integer >= 1; received steps=0"),
        (["--steps", "-5"], "steps must be an integer >= 1; received steps=-5"),
        (["--frames", "1"], "frames must be >= 2; received frames=1"),
        (["--fps", "0"], "fps must be in [1, 50]; received fps=0"),
        (["--fps", "60"], "fps must be in [1, 50]; received fps=60"),
        (["--lrs", "-0.1,0.2"], "sgd: lr must be >= 0; received lr=-0.1"),
        (["-o", "lr=0.1"], "give sgd's learning rate with lrs= (or --lrs)"),
        (["--plugin", "no_such_module_xyz"], "--plugin no_such_module_xyz: no module named"),
        (["-o", "lion.betas=0.9,0.99"], "'lion' is not among the optimizers"),
        (["-o", "nus=0.7,1.0"], "none of sgd, adam takes 'nus'"),
        (["-p", "condition=3"], "rosenbrock: unknown parameter condition"),
        (["--noise", "-1"], "noise: scale must be a finite number >= 0"),
    ],
)
def test_bad_input_exits_with_a_clear_error(tmp_path, capsys, args, message):
    base = ["trajectories", "--optimizers", "sgd,adam", "--steps", "5", "--out", str(tmp_path)]
    code = main([*base, *args])
    assert code != 0
    err = capsys.readouterr().err
    assert message in err
    assert not (tmp_path / "summary.json").exists()


def test_out_is_required(capsys):
    assert main(["trajectories"]) != 0
    assert "--out is required" in capsys.readouterr().err

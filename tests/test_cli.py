"""``optimlab train`` end to end on the real Fashion-MNIST, and its errors."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optimlab.cli import main, parse_override, parse_value

OPTIMLAB = str(Path(sys.executable).with_name("optimlab"))
FMNIST = Path("/usr/share/datasets/fashion-mnist")


def train_args(out: Path, *extra: str) -> list[str]:
    return [
        "train", "--dataset", "fashion-mnist", "--model", "mlp", "--hidden", "128,64",
        "--optimizer", "sgd", "--lr", "0.1", "--epochs", "5", "--batch-size", "128",
        "--seed", "0", "--out", str(out), *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory) -> dict:
    """The issue's command, through the console script, once for the module."""
    out = tmp_path_factory.mktemp("mlp")
    proc = subprocess.run([OPTIMLAB, *train_args(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "test accuracy" in proc.stdout
    return {"out": out, "history": json.loads((out / "history.json").read_text())}


@pytest.mark.slow
def test_mlp_reaches_084_after_5_epochs(mlp_run):
    history = mlp_run["history"]
    assert 0.84 <= history["test_accuracy"] <= 1.0
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3, 4, 5]
    for epoch in history["epochs"]:
        assert set(epoch) == {"epoch", "train_loss", "train_accuracy", "val_loss",
                              "val_accuracy", "seconds", "test_loss", "test_accuracy", "steps",
                              "gradient_evaluations"}  # fmt: skip
    assert [e["steps"] for e in history["epochs"]] == [422 * k for k in range(1, 6)]
    # The test set after the last epoch is the one reported at the end.
    assert history["epochs"][-1]["test_accuracy"] == history["test_accuracy"]
    assert history["config"]["optimizer"] == "sgd" and history["config"]["lr"] == 0.1
    for name in ("loss.png", "accuracy.png"):
        assert (mlp_run["out"] / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Nothing but the three results (no temporary file left over).
    assert sorted(p.name for p in mlp_run["out"].iterdir()) == [
        "accuracy.png", "history.json", "loss.png"]  # fmt: skip


@pytest.mark.slow
def test_same_seed_same_numbers(mlp_run, tmp_path):
    # A fresh process, as the first run: BLAS keeps its thread count. (Within one
    # process whose BLAS threads were changed, matrix products may round differently.)
    proc = subprocess.run([OPTIMLAB, *train_args(tmp_path, "--quiet")], capture_output=True)
    assert proc.returncode == 0, proc.stderr
    again = json.loads((tmp_path / "history.json").read_text())

    def numbers(h):
        return [[e[k] for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy")]
                for e in h["epochs"]] + [h["test_accuracy"]]  # fmt: skip

    assert numbers(again) == numbers(mlp_run["history"])


@pytest.mark.slow
def test_cnn_reaches_087_after_2_epochs(tmp_path):
    args = ["train", "--model", "cnn", "--optimizer", "sgd", "--lr", "0.05", "-o", "momentum=0.9",
            "--epochs", "2", "--seed", "0", "--quiet", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["test_accuracy"] >= 0.87
    assert history["config"]["hyperparameters"] == {"momentum": 0.9}


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        (
            ["--dataset", "fashion-mnst"],
            r"unknown dataset 'fashion-mnst'; did you mean 'fashion-mnist'",
        ),
        (["--model", "mpl"], r"unknown model 'mpl'; did you mean 'mlp'"),
        (["--activation", "rleu"], r"unknown activation 'rleu'; did you mean 'relu'"),
        (["--init", "hee"], r"unknown initializer 'hee'; did you mean 'he'"),
        (["--optimizer", "sdg"], r"unknown optimizer 'sdg'; did you mean 'sgd'"),
        (["--lr", "-0.1"], r"train: --lr must be finite and > 0 \(as in compare\); received -0.1"),
        (["--lr", "0"], r"train: --lr must be finite and > 0 \(as in compare\); received 0.0"),
        (["--lr", "inf"], r"train: --lr must be finite and > 0 \(as in compare\); received inf"),
        (["-o", "momentun=0.9"], r"unknown hyperparameter 'momentun'; did you mean 'momentum'"),
        (["-o", "nesterov=true"], r"nesterov=True needs momentum > 0"),
        (["--epochs", "0"], r"epochs must be an integer >= 1; received epochs=0"),
    ],
)
def test_bad_input_is_named(tmp_path, capsys, extra, pattern):
    out = tmp_path / "out"
    assert main([*train_args(out, "--quiet"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("optimlab train: error: ")
    assert re.search(pattern, err), err
    assert not (out / "history.json").exists()


def test_out_that_cannot_be_written(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(train_args(blocker / "out", "--quiet", "--epochs", "1")) == 2
    err = capsys.readouterr().err
    assert f"--out '{blocker / 'out'}' cannot be written" in err


def test_corrupt_data_file_is_reported(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    shutil.copytree(FMNIST, data)
    labels = data / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(labels.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    labels.write_bytes(bytes(raw))
    monkeypatch.setenv("OPTIMLAB_DATA", str(data))
    assert main(train_args(tmp_path / "out", "--quiet", "--epochs", "1")) == 2
    assert "t10k-labels-idx1-ubyte" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("False", False),
        ("3", 3),
        ("0.9", 0.9),
        ("1e-3", 1e-3),
        ("0.9,0.999", (0.9, 0.999)),
        ("cosine", "cosine"),
    ],
)
def test_parse_value(text, value):
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


def test_parse_override_needs_name_and_value():
    assert parse_override("momentum=0.9") == ("momentum", 0.9)
    with pytest.raises(argparse.ArgumentTypeError, match="expected NAME=VALUE"):
        parse_override("momentum")


def test_optimizers_lists_every_name_with_defaults_and_paper(capsys):
    from optimlab import optim

    assert main(["optimizers"]) == 0
    out = capsys.readouterr().out
    for name in optim.available():
        assert f"\n{name}\n" in f"\n{out}"
    assert "betas=(0.9, 0.999)" in out and "arXiv:1412.6980" in out


def test_optimizers_name_prints_its_equations(capsys):
    assert main(["optimizers", "adam"]) == 0
    out = capsys.readouterr().out
    assert "reference: torch.optim.Adam" in out
    assert r"\beta_1 m_{t-1}" in out


def test_optimizers_unknown_name(capsys):
    assert main(["optimizers", "nesterv"]) == 2
    assert "did you mean 'nesterov'" in capsys.readouterr().err


@pytest.mark.slow
def test_train_with_demon_a_schedule_and_warmup(tmp_path):
    args = ["train", "--optimizer", "demon-qhadamw", "--lr", "0.002", "--schedule", "cosine",
            "--warmup", "50", "-o", "nus=0.7,1.0", "-o", "weight_decay=0.01", "--epochs", "1",
            "--quiet", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["config"]["schedule"] == "cosine" and history["config"]["warmup"] == 50
    assert history["test_accuracy"] > 0.8


def test_unknown_schedule(tmp_path, capsys):
    assert main(train_args(tmp_path / "o", "--quiet", "--schedule", "cosin")) == 2
    assert "unknown schedule 'cosin'; did you mean 'cosine'" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["optimizers", "radamw"], ["optimizers", "adamm"], ["--version"]])
def test_python_dash_m_is_the_console_script(args):
    """``python -m optimlab ...`` prints and exits exactly as ``optimlab ...``."""
    script = subprocess.run([OPTIMLAB, *args], capture_output=True, text=True)
    module = subprocess.run(
        [sys.executable, "-m", "optimlab", *args], capture_output=True, text=True
    )
    assert (module.returncode, module.stdout, module.stderr) == (
        script.returncode, script.stdout, script.stderr,
    )  # fmt: skip
    assert module.stdout or module.stderr

"""The README's Python example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1
    namespace: dict = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    history = namespace["history"]
    assert len(history.epochs) == 3 and not history.diverged
    assert history.epochs[-1].val_accuracy > 0.8
    assert "EpochRecord(epoch=3" in capsys.readouterr().out

"""What a training run measured: one record per epoch, and how the run ended."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class EpochRecord:
    """Metrics of one finished epoch (``epoch`` counts from 1).

    ``train_loss`` and ``train_accuracy`` are means over the epoch's batches
    (weighted by batch size), measured while the weights moved; ``val_*`` are
    measured after the epoch, in evaluation mode. ``seconds`` is the wall-clock
    time of the epoch, validation included. ``test_*`` are measured on the test
    set after the epoch, in evaluation mode, outside ``seconds`` (``None``
    without a test set); nothing is tuned on them. The accuracies are ``None``
    for a loss that does not classify (an autoencoder, a quadratic).

    ``steps`` and ``gradient_evaluations`` count, over the whole run up to the end
    of this epoch, the optimizer's steps and the mini-batch gradients computed
    (one forward and backward pass each; the same number for every optimizer
    here), so that time to a target can be read in steps as well as in epochs
    and seconds.
    """

    epoch: int
    train_loss: float
    train_accuracy: float | None
    val_loss: float
    val_accuracy: float | None
    seconds: float
    test_loss: float | None = None
    test_accuracy: float | None = None
    steps: int | None = None
    gradient_evaluations: int | None = None


@dataclass
class History:
    """The epochs of a run and whether it diverged.

    A run diverges when a loss becomes NaN or infinite; the epochs finished
    before that are kept and ``diverged_at_epoch`` says which epoch failed.
    ``diagnostics`` are the per-layer rows of a run with diagnostics
    (:class:`~optimlab.train.diagnostics.DiagnosticsRecorder`: ``epoch``, ``layer``,
    ``name``, ``value``); empty otherwise.
    """

    epochs: list[EpochRecord] = field(default_factory=list)
    diverged: bool = False
    diverged_at_epoch: int | None = None
    diagnostics: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.epochs)

    def column(self, name: str) -> list[float]:
        """One metric over the epochs, e.g. ``history.column("val_accuracy")``."""
        return [getattr(record, name) for record in self.epochs]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``diagnostics`` only when there are some: a run without them
        keeps the form, and the checkpoints, it always had)."""
        data: dict[str, Any] = {
            "epochs": [asdict(record) for record in self.epochs],
            "diverged": self.diverged,
            "diverged_at_epoch": self.diverged_at_epoch,
        }
        if self.diagnostics:
            data["diagnostics"] = [dict(row) for row in self.diagnostics]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        return cls(
            epochs=[EpochRecord(**record) for record in data["epochs"]],
            diverged=bool(data.get("diverged", False)),
            diverged_at_epoch=data.get("diverged_at_epoch"),
            diagnostics=[dict(row) for row in data.get("diagnostics", ())],
        )

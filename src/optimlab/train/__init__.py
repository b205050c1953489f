"""Training: ``fit`` a model and get back its ``History``."""

from optimlab.train.callbacks import Callback, EarlyStopping, EpochSink
from optimlab.train.history import EpochRecord, History
from optimlab.train.loop import evaluate, fit
from optimlab.train.metrics import accuracy

__all__ = [
    "Callback",
    "EarlyStopping",
    "EpochRecord",
    "EpochSink",
    "History",
    "accuracy",
    "evaluate",
    "fit",
]

"""The transforms named optimizers are built from (see :mod:`optimlab.optim.base`)."""

from optimlab.optim.transforms.decay import AddDecayedWeights, DecoupledWeightDecay
from optimlab.optim.transforms.moments import ScaleByAdam, ScaleByAdamax, ScaleByQHAdam
from optimlab.optim.transforms.momentum import QuasiHyperbolicMomentum, Trace
from optimlab.optim.transforms.rescaling import (
    ScaleByAdadelta,
    ScaleByAdagrad,
    ScaleByNAdam,
    ScaleByRAdam,
    ScaleByRMSprop,
)
from optimlab.optim.transforms.scaling import ScaleByLearningRate

__all__ = [
    "AddDecayedWeights",
    "DecoupledWeightDecay",
    "QuasiHyperbolicMomentum",
    "ScaleByAdadelta",
    "ScaleByAdagrad",
    "ScaleByAdam",
    "ScaleByAdamax",
    "ScaleByLearningRate",
    "ScaleByNAdam",
    "ScaleByQHAdam",
    "ScaleByRAdam",
    "ScaleByRMSprop",
    "Trace",
]

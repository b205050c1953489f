"""How many threads BLAS (and OpenMP) may use: environment variables read at NumPy's import.

Sweep workers run with one thread each, so that a run's numbers do not depend on
how many runs share the machine (a float32 product rounds differently when it is
split between threads). ``optimlab train`` uses the same by default, so that it
gives a sweep run's numbers bit for bit. Stdlib only: this must be importable
before NumPy is.
"""

from __future__ import annotations

import os
import sys

VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def settings(threads: int) -> dict[str, str]:
    """The environment that limits BLAS to ``threads`` threads."""
    return dict.fromkeys(VARIABLES, str(threads))


def limit_before_numpy(threads: int) -> bool:
    """Limit this process's BLAS to ``threads`` threads; possible only before NumPy is
    imported (returns whether it was)."""
    if "numpy" in sys.modules:
        return False
    os.environ.update(settings(threads))
    return True

"""How many threads optimlab's own element-wise work may use, and a shared pool.

NumPy's element-wise functions run on one core but release the GIL, so two
Python threads working on two halves of a large array run truly in parallel.
optimlab uses this where it pays (optimizer steps on large parameters) and
follows the usual settings: ``OPTIMLAB_NUM_THREADS``, else ``OMP_NUM_THREADS``
(``optimlab compare`` sets 1 in its workers, which already run in parallel),
else the number of cores.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache


def num_threads() -> int:
    """Threads for element-wise work (at least 1)."""
    for key in ("OPTIMLAB_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(key, "").strip()
        if value.isdigit() and int(value) >= 1:
            return int(value)
    return os.cpu_count() or 1


@cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="optimlab")


def pool() -> ThreadPoolExecutor:
    """A process-wide pool of :func:`num_threads` threads."""
    return _pool(num_threads())

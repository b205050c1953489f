"""``gradcheck``: compare a layer's ``backward`` with central differences, in float64.

Use it on your own layers: it finds sign errors, missing terms, wrong
reductions and forgotten parameter gradients, and says where.

Why float64: the central difference ``(L(a + eps) - L(a - eps)) / (2 eps)`` has
a truncation error of order ``eps^2`` and a rounding error of order
``machine_eps * |L| / eps``. In float32 (machine eps 1e-7) no ``eps`` makes both
small, and checks are off by whole units; in float64 (1e-16) ``eps = 1e-6``
gives ~1e-9.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from optimlab.nn.module import Module, Parameter

__all__ = ["GradcheckResult", "gradcheck"]


@dataclass(frozen=True)
class GradcheckResult:
    """What :func:`gradcheck` compared.

    Attributes
    ----------
    passed : bool
        Whether every entry was within ``atol + rtol * |numeric|``.
    analytic, numeric : dict of str to ndarray
        Per argument (``"input"``, then each parameter's dotted name): the
        gradient from ``backward`` and the central-difference estimate.
    max_abs_error : dict of str to float
        ``max |analytic - numeric|`` per argument.
    failures : tuple of str
        One message per failing argument (empty when ``passed``).
    """

    passed: bool
    analytic: dict[str, np.ndarray] = field(repr=False)
    numeric: dict[str, np.ndarray] = field(repr=False)
    max_abs_error: dict[str, float]
    failures: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.passed


def _modules(module: Module) -> Iterator[Module]:
    yield module
    for _, child in module.children():
        yield from _modules(child)


def _float64_copy(module: Module) -> Module:
    """A deep copy whose parameters and floating buffers are float64 (gradients cleared)."""
    module = copy.deepcopy(module)
    for m in _modules(module):
        for value in vars(m).values():
            if isinstance(value, Parameter):
                value.data = value.data.astype(np.float64)
                value.grad = None
        for name in getattr(m, "_buffers", ()):
            buffer = np.asarray(getattr(m, name))
            if np.issubdtype(buffer.dtype, np.floating):
                setattr(m, name, buffer.astype(np.float64))
    return module


def _compare(
    label: str, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float
) -> str | None:
    """A failure message for the worst entry, or None when all entries agree."""
    error = np.abs(analytic - numeric)
    allowed = atol + rtol * np.abs(numeric)
    wrong = ~(error <= allowed)  # NaN counts as wrong
    if not wrong.any():
        return None
    excess = np.where(wrong, np.nan_to_num(error - allowed, nan=np.inf), -np.inf)
    index = np.unravel_index(int(np.argmax(excess)), analytic.shape)
    index = tuple(int(i) for i in index)
    return (
        f"gradient w.r.t. {label} wrong at index {index}: got {float(analytic[index])!r} "
        f"(analytic, from backward), expected {float(numeric[index])!r} (central difference); "
        f"|got - expected| = {error[index]:.3g} > atol + rtol * |expected| = "
        f"{allowed[index]:.3g} ({int(wrong.sum())} of {wrong.size} entries wrong)"
    )


def gradcheck(
    module: Module,
    x: np.ndarray,
    *,
    target: np.ndarray | None = None,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    seed: int = 0,
    raise_on_failure: bool = True,
) -> GradcheckResult:
    """Check ``module.backward`` against central differences of ``module.forward``, in float64.

    The check runs on a **float64 deep copy** of ``module`` (parameters and
    buffers cast; ``module`` itself is not modified) in its current mode
    (``train()`` / ``eval()``). For a layer, the scalar checked is a random
    projection of the output, ``L = sum(forward(x) * R)`` with ``R ~ N(0, 1)``
    drawn from ``seed``, so ``dL/dout = R`` is what ``backward`` receives. For
    a loss (``target`` given), ``L = forward(x, target)`` and ``backward()``
    takes no argument. Every entry of ``x`` and of every parameter is
    perturbed by ``+-eps``::

        numeric[i] = (L(a + eps e_i) - L(a - eps e_i)) / (2 eps)

    and must satisfy ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Parameters
    ----------
    module : Module
        A layer (``forward(x)``, ``backward(grad_out)``) or, with ``target``,
        a loss (``forward(x, target)``, ``backward()``).
    x : ndarray
        Input (cast to float64). Keep it away from kinks (ReLU at 0, ties in
        max pooling), where the numerical derivative is meaningless.
    target : ndarray, optional
        Labels or targets of a loss; not differentiated.
    eps, atol, rtol : float
    seed : int
        Seed of the projection ``R``.
    raise_on_failure : bool, default True
        Raise ``AssertionError`` listing every failing argument (input or
        parameter name), the worst index, the value got and the value
        expected; with ``False`` inspect the returned result instead.

    Returns
    -------
    GradcheckResult

    Raises
    ------
    AssertionError
        On a mismatch (``raise_on_failure``), on a ``backward`` returning the
        wrong shape, or on a parameter left without a gradient.
    TypeError
        If the module does not compute in float64 once its parameters are
        (it keeps a dtype of its own: build it with ``dtype=np.float64``).
    ValueError
        If ``forward`` is not deterministic (Dropout in training mode: call
        ``freeze_mask`` first).

    Examples
    --------
    >>> import numpy as np
    >>> from optimlab import nn
    >>> layer = nn.Dense(3, 2, rng=np.random.default_rng(0))
    >>> x = np.random.default_rng(1).standard_normal((4, 3))
    >>> nn.gradcheck(layer, x).passed
    True
    >>> loss = nn.SoftmaxCrossEntropy()
    >>> bool(nn.gradcheck(loss, x, target=np.array([0, 2, 1, 1])))
    True
    """
    net = _float64_copy(module)
    x = np.array(x, dtype=np.float64)  # our own copy: perturbed in place below
    name = type(module).__name__

    if target is None:
        out = np.array(net.forward(x))
        if out.dtype != np.float64:
            raise TypeError(
                f"gradcheck: {name} returned {out.dtype} output from float64 input and "
                "parameters; construct it with dtype=np.float64"
            )
        projection = np.random.default_rng(seed).standard_normal(out.shape)
        net.zero_grad()
        dx = net.backward(projection.copy())
        if not np.array_equal(np.asarray(net.forward(x)), out, equal_nan=True):
            raise ValueError(
                f"gradcheck: {name}.forward gave different outputs for the same input; "
                "numerical gradients need a deterministic forward (freeze Dropout masks "
                "with freeze_mask())"
            )

        def scalar() -> float:
            return float(np.sum(net.forward(x) * projection))
    else:
        net.zero_grad()
        net.forward(x, target)
        dx = net.backward()

        def scalar() -> float:
            return float(net.forward(x, target))

    dx = np.asarray(dx)
    if dx.shape != x.shape:
        raise AssertionError(
            f"gradcheck: {name}.backward returned a gradient of shape {dx.shape} "
            f"for an input of shape {x.shape}"
        )
    analytic = {"input": dx.astype(np.float64)}
    arrays = {"input": x}
    labels = {"input": "input"}
    failures = []
    for pname, p in net.named_parameters():
        if p.grad is None:
            failures.append(f"parameter {pname!r} received no gradient (.grad is None)")
            continue
        analytic[pname] = p.grad.astype(np.float64)
        arrays[pname] = p.data
        labels[pname] = f"parameter {pname!r}"

    numeric = {}
    for key, array in arrays.items():
        estimate = np.empty(array.shape, dtype=np.float64)
        for index in np.ndindex(array.shape):
            original = array[index]
            array[index] = original + eps
            plus = scalar()
            array[index] = original - eps
            minus = scalar()
            array[index] = original
            estimate[index] = (plus - minus) / (2 * eps)
        numeric[key] = estimate
        message = _compare(labels[key], analytic[key], estimate, atol, rtol)
        if message is not None:
            failures.append(message)

    errors = {k: float(np.max(np.abs(analytic[k] - numeric[k]), initial=0.0)) for k in numeric}
    result = GradcheckResult(not failures, analytic, numeric, errors, tuple(failures))
    if failures and raise_on_failure:
        raise AssertionError(f"gradcheck of {name} failed:\n- " + "\n- ".join(failures))
    return result

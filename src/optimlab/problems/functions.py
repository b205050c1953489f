"""The classic 2-D test functions of optimization, with analytic gradients.

Definitions, minima and windows follow Surjanovic & Bingham, *Virtual Library
of Simulation Experiments: Test Functions and Datasets*
(https://www.sfu.ca/~ssurjano/optimization.html), and Jamil & Yang, "A
literature survey of benchmark functions for global optimization problems"
(2013, arXiv:1308.4008). Minima not in closed form (Himmelblau's three,
Styblinski-Tang's) are the published values refined by Newton's method to
double precision, so the gradient there is zero to rounding.
"""

from __future__ import annotations

import math

import numpy as np

from optimlab.problems.base import Function2D

_SURJANOVIC = "Surjanovic & Bingham, Virtual Library of Simulation Experiments (sfu.ca/~ssurjano)"


def _finite(owner: str, name: str, value: object, *, low: float = -math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number; received {name}={value!r}")
    if value < low:
        raise ValueError(f"{owner}: {name} must be >= {low:g}; received {name}={value!r}")
    return float(value)


class Rosenbrock(Function2D):
    r"""Rosenbrock's banana valley: :math:`f = (a - x)^2 + b (y - x^2)^2`.

    Minimum :math:`f(a, a^2) = 0`. The valley floor :math:`y = x^2` is easy to
    reach and slow to follow: at the minimum the Hessian's condition number is
    about 2500 for :math:`a = 1, b = 100`. The window is :math:`[-2, 2] \times
    [-1, 3]`, widened to hold the minimum for other :math:`a`. (Rosenbrock,
    "An automatic method for finding the greatest or least value of a
    function", The Computer Journal 3, 1960.)
    """

    name = "rosenbrock"
    reference = "Rosenbrock (1960), The Computer Journal 3(3):175-184"
    window = ((-2.0, 2.0), (-1.0, 3.0))
    start = (-1.5, 2.0)
    minimum_value = 0.0

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a = _finite(self.name, "a", a)
        self.b = _finite(self.name, "b", b, low=0.0)
        if self.b == 0:
            raise ValueError(f"{self.name}: b must be > 0; received b={b!r}")
        self.minima = ((self.a, self.a**2),)
        self.window = (
            (min(-2.0, self.a - 1.0), max(2.0, self.a + 1.0)),
            (min(-1.0, self.a**2 - 1.0), max(3.0, self.a**2 + 1.0)),
        )
        self.formula = f"f = ({self.a:g} - x)^2 + {self.b:g} (y - x^2)^2"

    def _value(self, x, y):
        return (self.a - x) ** 2 + self.b * (y - x**2) ** 2

    def _gradient(self, x, y):
        inner = y - x**2
        return -2 * (self.a - x) - 4 * self.b * x * inner, 2 * self.b * inner

    def __repr__(self) -> str:
        return f"Rosenbrock(a={self.a:g}, b={self.b:g})"


class Beale(Function2D):
    r"""Beale's function: a flat plateau around a narrow, curved valley.

    .. math:: f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2

    Minimum :math:`f(3, 0.5) = 0`; window :math:`[-4.5, 4.5]^2`.
    """

    name = "beale"
    formula = "f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2"
    reference = _SURJANOVIC
    minima = ((3.0, 0.5),)
    minimum_value = 0.0
    window = ((-4.5, 4.5), (-4.5, 4.5))
    start = (1.0, 1.5)
    _C = (1.5, 2.25, 2.625)

    def _value(self, x, y):
        return sum((c - x + x * y ** (k + 1)) ** 2 for k, c in enumerate(self._C))

    def _gradient(self, x, y):
        gx, gy = 0.0, 0.0
        for k, c in enumerate(self._C):
            term = c - x + x * y ** (k + 1)  # d term/dx = y^(k+1) - 1, d term/dy = (k+1) x y^k
            gx = gx + 2 * term * (y ** (k + 1) - 1)
            gy = gy + 2 * term * (k + 1) * x * y**k
        return gx, gy


class Himmelblau(Function2D):
    r"""Himmelblau's function: four global minima of value 0.

    .. math:: f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2

    Minima at :math:`(3, 2)`, :math:`(-2.805118, 3.131312)`,
    :math:`(-3.779310, -3.283186)` and :math:`(3.584428, -1.848126)`;
    a local maximum at :math:`(-0.270845, -0.923039)`. Which minimum an
    optimizer reaches depends on its path. (Himmelblau, *Applied Nonlinear
    Programming*, 1972.)
    """

    name = "himmelblau"
    formula = "f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2"
    reference = "Himmelblau (1972), Applied Nonlinear Programming, McGraw-Hill"
    minima = (
        (3.0, 2.0),
        (-2.805118086952745, 3.131312518250573),
        (-3.779310253377747, -3.2831859912861696),
        (3.5844283403304917, -1.8481265269644034),
    )
    minimum_value = 0.0
    window = ((-5.0, 5.0), (-5.0, 5.0))
    start = (-0.5, -0.5)

    def _value(self, x, y):
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def _gradient(self, x, y):
        a, b = x**2 + y - 11, x + y**2 - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b


class Rastrigin(Function2D):
    r"""Rastrigin's function: a bowl covered in a grid of local minima.

    .. math:: f = 2A + \sum_{i} \left(x_i^2 - A \cos(2 \pi x_i)\right), \quad A = 10

    Global minimum :math:`f(0, 0) = 0`; a local minimum near every integer
    point. Window :math:`[-5.12, 5.12]^2`. Gradient methods stop in the first
    local minimum they meet unless momentum or noise carries them over.
    """

    name = "rastrigin"
    reference = _SURJANOVIC
    minima = ((0.0, 0.0),)
    minimum_value = 0.0
    window = ((-5.12, 5.12), (-5.12, 5.12))
    start = (-4.5, 4.5)

    def __init__(self, A: float = 10.0) -> None:  # A: the published name
        self.A = _finite(self.name, "A", A, low=0.0)
        self.formula = (
            f"f = {2 * self.A:g} + x^2 - {self.A:g} cos(2 pi x) + y^2 - {self.A:g} cos(2 pi y)"
        )

    def _value(self, x, y):
        tau = 2 * np.pi
        return 2 * self.A + x**2 - self.A * np.cos(tau * x) + y**2 - self.A * np.cos(tau * y)

    def _gradient(self, x, y):
        tau = 2 * np.pi
        return 2 * x + self.A * tau * np.sin(tau * x), 2 * y + self.A * tau * np.sin(tau * y)

    def __repr__(self) -> str:
        return f"Rastrigin(A={self.A:g})"


# The roots of 4x^3 - 32x + 5 = 0 where one coordinate is minimal: global, then local.
_ST_X = -2.903534027771177
_ST_LOCAL = 2.746802770990837


class StyblinskiTang(Function2D):
    r"""The Styblinski-Tang function: one global and three local minima.

    .. math:: f = \tfrac12 \sum_i \left(x_i^4 - 16 x_i^2 + 5 x_i\right)

    Global minimum :math:`f(-2.903534, -2.903534) = -78.332331`
    (:math:`-39.16617` per dimension). Three local minima sit where one or
    both coordinates are :math:`2.746803` (values -64.196 and -50.059); from
    the default start, gradient descent ends in one of them. Window
    :math:`[-5, 5]^2`.
    """

    name = "styblinski-tang"
    formula = "f = ((x^4 - 16 x^2 + 5 x) + (y^4 - 16 y^2 + 5 y)) / 2"
    reference = _SURJANOVIC
    minima = ((_ST_X, _ST_X),)
    local_minima = ((_ST_LOCAL, _ST_LOCAL), (_ST_X, _ST_LOCAL), (_ST_LOCAL, _ST_X))
    minimum_value = -78.33233140754282
    window = ((-5.0, 5.0), (-5.0, 5.0))
    start = (0.5, 4.5)

    def _value(self, x, y):
        return 0.5 * (x**4 - 16 * x**2 + 5 * x + y**4 - 16 * y**2 + 5 * y)

    def _gradient(self, x, y):
        return 2 * x**3 - 16 * x + 2.5, 2 * y**3 - 16 * y + 2.5


class Quadratic(Function2D):
    r"""An ill-conditioned convex quadratic: :math:`f = \tfrac12 p^\top A p`.

    :math:`A = R(\theta) \operatorname{diag}(1, \kappa) R(\theta)^\top`, with
    :math:`\kappa` the condition number and :math:`\theta` the angle (degrees)
    of the steep axis. Minimum :math:`f(0, 0) = 0`. Gradient descent is stable
    for :math:`\eta < 2 / \kappa` and then shrinks the flat direction by
    :math:`1 - \eta` per step, so it needs about :math:`\kappa` steps: the
    textbook case for momentum. With :math:`\theta = 0` the axes are the
    coordinates and per-coordinate methods (Adam, RMSprop) remove the
    conditioning; a rotated valley (say 30 degrees) takes that advantage away.
    """

    name = "quadratic"
    reference = "Nocedal & Wright, Numerical Optimization (2006), section 3.3"
    minima = ((0.0, 0.0),)
    minimum_value = 0.0
    window = ((-3.0, 3.0), (-3.0, 3.0))
    start = (-2.5, 2.0)

    def __init__(self, condition: float = 10.0, angle: float = 0.0) -> None:
        self.condition = _finite(self.name, "condition", condition, low=1.0)
        self.angle = _finite(self.name, "angle", angle)
        c, s = math.cos(math.radians(self.angle)), math.sin(math.radians(self.angle))
        rotation = np.array([[c, -s], [s, c]])
        self.matrix = rotation @ np.diag([1.0, self.condition]) @ rotation.T
        self.formula = (
            f"f = p^T A p / 2, eigenvalues 1 and {self.condition:g} "
            f"(condition number {self.condition:g}), steep axis at {self.angle:g} degrees"
        )

    def _value(self, x, y):
        (a, b), (_, d) = self.matrix
        return 0.5 * (a * x * x + 2 * b * x * y + d * y * y)

    def _gradient(self, x, y):
        (a, b), (_, d) = self.matrix
        return a * x + b * y, b * x + d * y

    def __repr__(self) -> str:
        return f"Quadratic(condition={self.condition:g}, angle={self.angle:g})"


class Saddle(Function2D):
    r"""The saddle :math:`f = x^2 - y^2`: no minimum, a saddle point at the origin.

    Gradient descent started near :math:`y = 0` is drawn to the saddle along
    :math:`x` and escapes along :math:`y` only as fast as its :math:`y`
    offset grows (by :math:`1 + 2\eta` per step). Distances are measured to
    the saddle point. (Dauphin et al., "Identifying and attacking the saddle
    point problem in high-dimensional non-convex optimization", NeurIPS 2014.)
    """

    name = "saddle"
    formula = "f = x^2 - y^2"
    reference = "Dauphin et al. (2014), NeurIPS, arXiv:1406.2572"
    stationary = ((0.0, 0.0),)
    window = ((-2.0, 2.0), (-2.0, 2.0))
    start = (-1.8, 0.05)

    def _value(self, x, y):
        return x**2 - y**2

    def _gradient(self, x, y):
        return 2 * x, -2 * y

"""Pure array kernels behind the layers: no state, no parameters, shapes in every docstring.

Each ``*_forward`` returns its output and a small cache; the matching
``*_backward`` takes the upstream gradient and that cache.
"""

from optimlab.nn.functional.conv import (
    Conv2dCache,
    conv2d_backward,
    conv2d_forward,
    conv_output_size,
)
from optimlab.nn.functional.pool import (
    PoolCache,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
    pool_windows,
)
from optimlab.nn.functional.softmax import (
    log_softmax,
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
)
from optimlab.nn.functional.special import erf, erfc, normal_cdf, normal_pdf

__all__ = [
    "Conv2dCache",
    "PoolCache",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "conv2d_backward",
    "conv2d_forward",
    "conv_output_size",
    "erf",
    "erfc",
    "log_softmax",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "normal_cdf",
    "normal_pdf",
    "pool_windows",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
]

"""optimlab: neural networks and gradient-descent optimizers from scratch in NumPy.

The packages, in the one direction their imports flow:

- :mod:`optimlab.data`: official data-set formats, checksums, splits and batches;
- :mod:`optimlab.nn`: layers with explicit ``forward`` / ``backward``;
- :mod:`optimlab.optim`: optimizers that see only parameters and gradients;
- :mod:`optimlab.train`: the training loop joining them (it writes no files);
- :mod:`optimlab.experiments`: runs, storage, plots;
- :mod:`optimlab.cli`: the ``optimlab`` command.

``import optimlab`` loads neither matplotlib nor torch nor dask.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

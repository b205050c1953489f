import sys
from pathlib import Path

import torch

# The table and the harness are plain modules next to the tests.
sys.path.insert(0, str(Path(__file__).parent))

# The reference oracles work on tensors of a few dozen elements: one thread. With more,
# torch's OpenMP threads wait for BLAS threads still spinning after a NumPy call, and a
# 3x3 torch.triu takes 1.5 ms instead of 3 us (PSGD Kron's reference runs 5x slower).
torch.set_num_threads(1)
# Nor does torch.einsum plan those contractions with opt_einsum (installed for the
# benchmarks' full-size parameters): planning each call costs more than the contraction.
torch.backends.opt_einsum.enabled = False

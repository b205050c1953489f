"""``python -m optimlab ...``: the same as the ``optimlab`` console script."""

import sys

from optimlab.cli import main

if __name__ == "__main__":
    sys.exit(main())

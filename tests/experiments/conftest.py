import sys
from pathlib import Path

# Shared helpers (sweep_rows.py) are plain modules next to the tests.
sys.path.insert(0, str(Path(__file__).parent))

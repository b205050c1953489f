import sys
from pathlib import Path

# The table and the harness are plain modules next to the tests.
sys.path.insert(0, str(Path(__file__).parent))

"""The smoke run's modules import each other as scripts do (from their own folder)."""

import sys
from pathlib import Path

SMOKE = Path(__file__).resolve().parents[2] / "smoke"
if str(SMOKE) not in sys.path:
    sys.path.insert(0, str(SMOKE))

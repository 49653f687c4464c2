"""Where things are: the repository, the product's interpreter and the baselines' virtualenv."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
REPO = BENCH.parent
RESULTS = BENCH / "results"
LOGS = RESULTS / "logs"
BASELINES = BENCH / "baselines"
BASELINE_VENV = BENCH / ".venv-baselines"
BASELINE_BIN = BASELINE_VENV / "bin"
# The suite runs with the product's interpreter (make bench: .venv/bin/python); its servers live beside it.
PRODUCT_PYTHON = Path(sys.executable)
PRODUCT_BIN = PRODUCT_PYTHON.parent

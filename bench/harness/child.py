"""Run one scenario module in a child process: `python -m bench.harness.child NAME BUDGET OUT.json`.

The approval and socket scenarios take `run(budget_seconds)`; in a child, the suite can stop one
that overruns (SIGINT first, so its `finally` blocks stop its servers) without stopping itself.
"""

import importlib
import json
import sys
from pathlib import Path


def main(name, budget_seconds, out_path):
    module = importlib.import_module(f"bench.scenarios.{name}")
    result = module.run(float(budget_seconds))
    Path(out_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:4])

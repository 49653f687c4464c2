"""The baselines' virtualenv: stock DOT, Authlib and gunicorn, kept apart from the product's."""

import hashlib
import sys
from pathlib import Path

from . import paths, proc

REQUIREMENTS = paths.BASELINES / "requirements.txt"


def base_python():
    """The interpreter the product's venv was made from (same version, no product packages)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return Path(sys.base_prefix) / "bin" / version


def ensure_baseline_venv(timeout):
    """Create or update bench/.venv-baselines; a stamp of the requirements' hash skips pip when current."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + str(base_python()).encode()).hexdigest()[:16]
    stamp = paths.BASELINE_VENV / f".installed-{digest}"
    if stamp.exists():
        return "current"
    python = paths.BASELINE_BIN / "python"
    if not python.exists():
        proc.run([base_python(), "-m", "venv", "--clear", paths.BASELINE_VENV], timeout=timeout)
    proc.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS],
        timeout=timeout,
    )
    for old in paths.BASELINE_VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return "installed"

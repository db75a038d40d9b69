"""ruff on the Python files, and on the notebooks through nbqa."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PY_DIRS = [d for d in ("tests", "scripts", "book/_ext") if (ROOT / d).exists()]

COMMANDS = {
    "ruff check": [str(BIN / "ruff"), "check", *PY_DIRS],
    "ruff format --check": [str(BIN / "ruff"), "format", "--check", *PY_DIRS],
    "nbqa ruff": [str(BIN / "nbqa"), "ruff", "notebooks"],
    "nbqa ruff format --check": [str(BIN / "nbqa"), "ruff format --check", "notebooks"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_ruff(name: str) -> None:
    proc = subprocess.run(COMMANDS[name], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}{proc.stderr}"

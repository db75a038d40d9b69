"""Run every chapter the way Colab would: only what Colab preinstalls, no repository.

    make colab-check        (or: python scripts/colab_check.py VENV_DIR)

Creates VENV_DIR (default .venv-colab) with nothing but torch, numpy, matplotlib and
scikit-learn (plus the kernel that runs the notebooks), then executes each notebook
in a fresh kernel from an empty temporary folder, and fails if a notebook raises or
leaves a file behind. The versions are the pinned ones of requirements.txt, so a
failure here means a missing dependency or a file the notebook expects, not drift.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLAB = ["torch", "numpy", "matplotlib", "scikit-learn"]
RUNNER = ["ipykernel", "nbclient", "nbformat"]

# The runner is a file of its own, so that ruff checks it like any other code.
RUNNER_SCRIPT = ROOT / "scripts" / "run_notebooks.py"


def pins() -> list[str]:
    """The requirements.txt pins of the packages Colab preinstalls and of the runner."""
    wanted = {name.lower() for name in COLAB + RUNNER}
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    specs = [ln.split("#")[0].strip() for ln in lines]
    return [s for s in specs if s and s.split("==")[0].lower() in wanted]


def main() -> int:
    env = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".venv-colab")
    python = env / "bin" / "python"
    if not python.exists():
        venv.create(env, with_pip=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", *pins()], check=True)
    # The kernel must be this environment's Python, whatever kernels the user has.
    kernels = env / "share" / "jupyter"
    install = [python, "-m", "ipykernel", "install", "--prefix", env, "--name", "python3"]
    subprocess.run(install, check=True, capture_output=True)
    notebooks = sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    run_env = {**os.environ, "JUPYTER_PATH": str(kernels)}
    return subprocess.run([python, RUNNER_SCRIPT, *notebooks], env=run_env).returncode


if __name__ == "__main__":
    sys.exit(main())

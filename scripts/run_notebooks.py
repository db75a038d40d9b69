"""Execute notebooks the way Colab opens them: each in a fresh kernel, from an empty folder.

    python scripts/run_notebooks.py NOTEBOOK.ipynb ...

`scripts/colab_check.py` runs this file with the Python of its Colab-like
environment (it needs only nbclient and nbformat besides what the notebooks
import). Prints one line per notebook; exits with the number of failures: a
notebook that raises, or that leaves a file in its folder.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: str) -> str:
    """'ok', or what went wrong, after executing one notebook."""
    nb = nbformat.read(path, 4)
    with tempfile.TemporaryDirectory() as folder:
        client = NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": folder}}
        )
        try:
            client.execute()
            status = "ok"
        except Exception as e:  # report every notebook, then fail
            status = f"FAILED: {type(e).__name__}: {str(e)[-500:]}"
        left = sorted(p.name for p in Path(folder).iterdir())
    if left:
        status = "FAILED" if status == "ok" else status
        status = f"{status}; left files behind: {left}"
    return status


def main(paths: list[str]) -> int:
    failed = 0
    for path in paths:
        start = time.perf_counter()
        status = run(path)
        failed += status != "ok"
        print(f"{Path(path).name}: {status} ({time.perf_counter() - start:.1f} s)", flush=True)
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

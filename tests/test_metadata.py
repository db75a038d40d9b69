"""Stored notebooks carry no volatile metadata (execution timestamps and the like),
so that a diff shows only what changed. scripts/strip_notebook_metadata.py removes it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import NOTEBOOKS, ROOT, ids

SCRIPT = ROOT / "scripts" / "strip_notebook_metadata.py"
_spec = importlib.util.spec_from_file_location("strip_notebook_metadata", SCRIPT)
assert _spec and _spec.loader
stripper = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stripper)


def check(*paths: Path) -> subprocess.CompletedProcess[str]:
    """The script's --check as a program (its exit status and what it prints)."""
    cmd = [sys.executable, str(SCRIPT), "--check", *map(str, paths)]
    return subprocess.run(cmd, capture_output=True, text=True)


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    """The script's main() in this process: the same code without starting Python and
    importing nbformat again (about a second each time on a 2-core machine)."""
    capsys.readouterr()
    status = stripper.main([str(a) for a in args])
    return status, capsys.readouterr().out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_no_volatile_metadata(path: Path) -> None:
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT)
    removed = stripper.strip(nb)
    assert not removed, (
        f"{path.name}: volatile metadata: {'; '.join(removed[:5])}"
        f"{f' and {len(removed) - 5} more' if len(removed) > 5 else ''} "
        f"(run: python scripts/strip_notebook_metadata.py notebooks/{path.name})"
    )


def test_the_check_catches_a_timestamp(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The check can fail, and the strip is idempotent and keeps tags."""
    source = NOTEBOOKS[0].read_text(encoding="utf-8")
    copy = tmp_path / NOTEBOOKS[0].name
    stamp = '"execution": {"iopub.status.busy": "2026-01-01T00:00:00.000000Z"}, "tags": ["x"]'
    copy.write_text(source.replace('"metadata": {}', '"metadata": {' + stamp + "}", 1))
    proc = check(copy)  # once as a program
    assert proc.returncode == 1 and "metadata.execution" in proc.stdout, proc.stdout
    assert run(capsys, copy)[0] == 0
    once = copy.read_text(encoding="utf-8")
    assert run(capsys, "--check", copy) == (0, "")
    assert run(capsys, copy)[0] == 0
    assert copy.read_text(encoding="utf-8") == once, "a second strip changed the notebook"
    assert '"x"' in once, "the strip removed a tag"


def test_solutions_are_collapsed_in_jupyterlab(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hide-cell solution without JupyterLab's jupyter.source_hidden is caught, then fixed."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("# Solution to exercise 1", metadata={"tags": ["hide-cell"]})
    ]
    copy = tmp_path / "solution.ipynb"
    nbformat.write(nb, copy)
    status, out = run(capsys, "--check", copy)
    assert status == 1 and "solution open in JupyterLab" in out, out
    assert run(capsys, copy)[0] == 0
    cell = nbformat.read(copy, as_version=4).cells[0]
    assert cell.metadata.jupyter == {"source_hidden": True, "outputs_hidden": True}
    assert cell.metadata.tags == ["hide-cell"]

"""Helpers the tests share: where things are, and how to read a notebook.

The test modules import these names (`from conftest import ...`): pytest puts
tests/ on sys.path because it is not a package.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NBVAL_MARKERS = {
    "NBVAL_IGNORE_OUTPUT",
    "NBVAL_CHECK_OUTPUT",
    "NBVAL_RAISES_EXCEPTION",
    "NBVAL_SKIP",
}


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def exec_cells(path: Path, markers: tuple[str, ...], namespace: dict[str, Any]) -> dict[str, Any]:
    """Exec, in notebook order, the code cells of `path` that contain one of `markers`.

    The tests take the code the book teaches from the notebook itself, so the
    notebook stays its single source. One cell per marker must be found.
    """
    found = 0
    for cell in load(path)["cells"]:
        src = source(cell)
        if cell["cell_type"] == "code" and any(m in src for m in markers):
            exec(compile(src, path.name, "exec"), namespace)
            found += 1
    assert found == len(markers), (
        f"{path.name}: expected {len(markers)} cells {markers}, found {found}"
    )
    return namespace


def code_cells(nb: dict) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def toc_entries() -> list[str]:
    """Every `root:` and `file:` entry of _toc.yml, without its suffix, in order."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    found.append(node[key].removesuffix(".ipynb").removesuffix(".md"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8")))
    return found


# `%%writefile [-a] TARGET`: the target is a file name or a `{python expression}`.
WRITEFILE = re.compile(r"^%%writefile(?:\s+-a|\s+--append)?\s+(\S+)\s*$")
# Targets whose content is not Python (anything else with a suffix is not either).
PYTHON_SUFFIX = ".py"


def writefile_target(cell_source: str) -> str | None:
    """The target of a `%%writefile` cell (after an optional `%%capture`), else None."""
    lines = cell_source.splitlines()
    while lines and lines[0].startswith("%%capture"):  # only silences the next magic
        lines = lines[1:]
    m = WRITEFILE.match(lines[0].strip()) if lines else None
    return m.group(1) if m else None


def writes_python(target: str) -> bool:
    """A `%%writefile` target holds Python if it ends in .py, or if it is a `{name}`
    whose suffix is not visible (the name then ends in `path}`, `script}` or similar,
    and CONTRIBUTING asks for Python there)."""
    if target.endswith(PYTHON_SUFFIX):
        return True
    return target.startswith("{") and target.endswith("}")


def writefile_body(cell_source: str) -> str:
    """The text a `%%writefile` cell writes (everything after the magic lines)."""
    lines = cell_source.splitlines()
    while lines and lines[0].startswith("%%capture"):
        lines = lines[1:]
    return "\n".join(lines[1:]) + "\n"


def python_of(cell_source: str) -> str:
    """The Python in a cell: IPython magics and shell escapes blanked out.

    A `%%writefile` cell whose target holds Python (see `writes_python`) is
    checked as Python too; any other cell magic holds no Python.
    """
    target = writefile_target(cell_source)
    if target is not None:
        return writefile_body(cell_source) if writes_python(target) else ""
    lines = cell_source.splitlines()
    while lines and lines[0].startswith("%%capture"):
        lines = lines[1:]
    if lines and lines[0].startswith("%%"):
        return ""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)


def markdown_lines(text: str) -> list[str]:
    """The lines of a markdown cell outside fenced code blocks (``` or ~~~)."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        stripped = line.lstrip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        out.append(line)
    return out


# --- Scheduling: the longest test scopes start first --------------------------------
# `make test` runs two xdist workers with `--dist loadscope`: a scope (one notebook,
# one test module) runs whole on one worker, and a worker takes the next scope from
# the queue when it is nearly idle. The suite ends when the slower worker does, so
# the scopes that take longest go first and the short ones fill in behind them
# (longest processing time first). xdist's own order (most tests first) is turned off
# in pyproject.toml (`--no-loadscope-reorder`): it put the site build and the browser
# visits, one long scope of few tests, near the end, alone on one worker.
# Order: quiet-machine times (a fresh kernel per chapter, the site build and visits),
# checked against `pytest -n 0 --durations=0` under load (where torch's threads make
# the heavy chapters look slower still); re-measure when a chapter or a slow test
# changes much (CONTRIBUTING.md, "How long the tests take"). Unlisted scopes follow,
# most tests first (xdist's heuristic).
SLOWEST_FIRST = [
    "notebooks/09_data_parallel.ipynb",
    "notebooks/07_training.ipynb",
    "tests/test_site.py",
    "notebooks/10_beyond_one_process.ipynb",
    "notebooks/11_beyond_sgd.ipynb",
    "notebooks/08_performance.ipynb",
    "tests/test_ch11_beyond_sgd.py",
    "notebooks/06_sgd_from_scratch.ipynb",
    "notebooks/05_momentum_meets_noise.ipynb",
    "tests/test_bench.py",
]


def scope_of(nodeid: str) -> str:
    """The scope `--dist loadscope` keeps on one worker (xdist's own split)."""
    return nodeid.rsplit("::", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Whole scopes reordered, slowest first; the order inside a scope is kept (nbval
    runs a notebook's cells in order)."""
    scopes: dict[str, list[pytest.Item]] = {}
    for item in items:
        scopes.setdefault(scope_of(item.nodeid), []).append(item)

    def rank(scope: str) -> tuple[int, int]:
        if scope in SLOWEST_FIRST:
            return (SLOWEST_FIRST.index(scope), 0)
        return (len(SLOWEST_FIRST), -len(scopes[scope]))

    items[:] = [item for scope in sorted(scopes, key=rank) for item in scopes[scope]]

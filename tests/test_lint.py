"""ruff on everything that runs: the Python files, the notebooks (through nbqa), and
the scripts that notebooks write with `%%writefile`, which nbqa skips.

One configuration for all of it: pyproject.toml's [tool.ruff].
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    NOTEBOOKS,
    ROOT,
    code_cells,
    load,
    source,
    writefile_body,
    writefile_target,
    writes_python,
)

BIN = Path(sys.executable).parent
RUFF = str(BIN / "ruff")
PY_DIRS = ["tests", "scripts", "book/_ext", "book/snippets"]
# The notebooks, and the chapter template a new chapter starts from.
NB_DIRS = ["notebooks", "book/templates"]

COMMANDS = {
    "ruff check": [RUFF, "check", *PY_DIRS],
    "ruff format --check": [RUFF, "format", "--check", *PY_DIRS],
    "nbqa ruff": [str(BIN / "nbqa"), "ruff", *NB_DIRS],
    "nbqa ruff format --check": [str(BIN / "nbqa"), "ruff format --check", *NB_DIRS],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_ruff(name: str) -> None:
    proc = subprocess.run(COMMANDS[name], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}{proc.stderr}"


# Notebooks whose %%writefile script is known not to pass yet, each with its reason.
# The test fails when one of them passes, so that the entry is removed.
NOT_YET: dict[tuple[str, str], str] = {}


def writefile_problems(path: Path, tool: str) -> list[str]:
    """`ruff check` or `ruff format --check` on every Python `%%writefile` cell.

    The script is linted as a file at the top of the repository, so the rules are
    those of tests/ and scripts/ (the notebooks' E402 exception does not apply).
    """
    args = {"check": ["check", "--no-fix"], "format": ["format", "--check", "--diff"]}[tool]
    problems = []
    for i, cell in code_cells(load(path)):
        text = source(cell)
        target = writefile_target(text)
        if target is None or not writes_python(target):
            continue
        name = str(ROOT / f"{path.stem}_cell{i}_writefile.py")
        cmd = [RUFF, *args, "--stdin-filename", name, "-"]
        proc = subprocess.run(
            cmd, input=writefile_body(text), cwd=ROOT, capture_output=True, text=True
        )
        if proc.returncode != 0:
            out = (proc.stdout + proc.stderr).strip()
            problems.append(f"{path.name} cell {i} ({target}): ruff {tool}:\n{out}")
    return problems


@pytest.mark.parametrize("tool", ["check", "format"])
def test_ruff_on_writefile_scripts(tool: str) -> None:
    """nbqa skips `%%writefile` cells: their scripts are linted here, as files."""
    problems = []
    for path in NOTEBOOKS:
        found = writefile_problems(path, tool)
        if (path.name, tool) in NOT_YET:
            assert found, f"{path.name} passes ruff {tool} now: remove it from NOT_YET"
        else:
            problems += found
    assert not problems, "\n\n".join(problems)


def test_a_flaw_in_a_writefile_script_is_caught(tmp_path: Path) -> None:
    """The check above can fail: an unused import, then bad spacing, in a copy."""
    writers = [
        (path, i)
        for path in NOTEBOOKS
        for i, cell in code_cells(load(path))
        if writefile_target(source(cell)) is not None
    ]
    if not writers:
        pytest.skip("no notebook writes a script with %%writefile")
    path, i = writers[0]
    for flaw, tool, sign in [("import json\n", "check", "F401"), ("x  =  1\n", "format", "+x = 1")]:
        nb = load(path)
        nb["cells"][i]["source"] = source(nb["cells"][i]).rstrip("\n") + "\n" + flaw
        copy = tmp_path / path.name
        copy.write_text(json.dumps(nb), encoding="utf-8")
        problems = "\n".join(writefile_problems(copy, tool))
        assert sign in problems, f"{flaw!r} not caught by ruff {tool}: {problems}"


def hidden_programs(path: Path) -> list[str]:
    """String literals (not docstrings) that are Python programs of 3+ statements."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if id(node) in docstrings or node.value.count("\n") < 2:
            continue
        try:
            body = ast.parse(node.value).body
        except SyntaxError:
            continue
        if len(body) >= 3 and any(not isinstance(s, ast.Expr) for s in body):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_python_program_hidden_in_a_string() -> None:
    """Code run with `python -c` or exec() escapes ruff: put it in a file of its own."""
    files = sorted(p for d in PY_DIRS for p in (ROOT / d).rglob("*.py"))
    found = [f for path in files for f in hidden_programs(path)]
    assert not found, "Python programs in strings (move them to a .py file):\n" + "\n".join(found)


def test_a_program_in_a_string_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "colab_check_old.py"
    copy.write_text(
        '"""Docstring."""\nRUN = r"""\nimport sys, time\nfailed = 0\nsys.exit(failed)\n"""\n',
        encoding="utf-8",
    )
    copy_in_root = ROOT / "tests" / copy.name  # hidden_programs names paths from ROOT
    try:
        copy_in_root.write_text(copy.read_text(encoding="utf-8"), encoding="utf-8")
        assert hidden_programs(copy_in_root) == [f"tests/{copy.name}:2"]
    finally:
        copy_in_root.unlink()

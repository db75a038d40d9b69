"""Notebook hygiene: what nbval does not check, checked per notebook.

Each test states one promise and names the notebook (and the cell) it fails on.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from conftest import (
    NBVAL_MARKERS,
    NOTEBOOKS,
    ROOT,
    code_cells,
    ids,
    load,
    markdown_lines,
    python_of,
    source,
    toc_entries,
)

MAX_BYTES = 1_500_000
# What Colab preinstalls, besides the standard library (IPython is the kernel itself).
ALLOWED_IMPORTS = {"torch", "numpy", "matplotlib", "sklearn", "IPython"}
# Paths that betray the machine a notebook was run on.
ABSOLUTE_PATH = re.compile(
    r"(/home/|/root/|/work/|/tmp/|/Users/|/private/var/|/var/folders/|[A-Z]:\\\\|site-packages)"
)
# Jupyter Book's tags (the site), and nbval's (the tests; no reader sees a tag).
ALLOWED_TAGS = {"hide-cell", "hide-input", "hide-output", "remove-cell", "remove-input"} | {
    marker.lower().replace("_", "-") for marker in NBVAL_MARKERS
}
SOLUTION = re.compile(r"#\s*Solution to exercise (\d+)\s*$")

each_notebook = pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@each_notebook
def test_format_and_kernel(path: Path) -> None:
    nb = load(path)
    assert (nb["nbformat"], nb["nbformat_minor"]) == (4, 5), f"{path.name}: want nbformat 4.5"
    assert nb["metadata"]["kernelspec"]["name"] == "python3", f"{path.name}: kernelspec"
    for i, cell in enumerate(nb["cells"]):
        assert cell.get("id"), f"{path.name} cell {i}: no cell id"


@each_notebook
def test_no_empty_cells(path: Path) -> None:
    for i, cell in enumerate(load(path)["cells"]):
        assert source(cell).strip(), f"{path.name} cell {i}: empty cell"


@each_notebook
def test_only_known_tags(path: Path) -> None:
    for i, cell in enumerate(load(path)["cells"]):
        bad = set(cell.get("metadata", {}).get("tags", [])) - ALLOWED_TAGS
        assert not bad, f"{path.name} cell {i}: unknown tags {sorted(bad)}"


@each_notebook
def test_under_the_size_limit(path: Path) -> None:
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name}: {size} bytes, the limit is {MAX_BYTES}"


@each_notebook
def test_executed_top_to_bottom(path: Path) -> None:
    counts = [c.get("execution_count") for _, c in code_cells(load(path))]
    want = list(range(1, len(counts) + 1))
    assert counts == want, (
        f"{path.name}: execution counts {counts} are not 1..N: re-run it in a fresh kernel "
        f"(jupyter nbconvert --to notebook --execute --inplace {path.name})"
    )


@each_notebook
def test_no_errors_or_machine_paths_in_outputs(path: Path) -> None:
    for i, cell in code_cells(load(path)):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", (
                f"{path.name} cell {i}: stored error {out.get('ename')}: {out.get('evalue')}"
            )
            texts = [out.get("text", "")]
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    texts.append(value)
            text = "".join("".join(t) if isinstance(t, list) else str(t) for t in texts)
            m = ABSOLUTE_PATH.search(text)
            assert m is None, f"{path.name} cell {i}: machine path {m.group(0)!r} in output"
            assert " at 0x" not in text, f"{path.name} cell {i}: a repr with a memory address"


@each_notebook
def test_no_stderr_in_outputs(path: Path) -> None:
    """A stored warning compares equal to a fresh one, so nbval cannot catch it."""
    for i, cell in code_cells(load(path)):
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            assert out.get("name") != "stderr", (
                f"{path.name} cell {i}: output on stderr (a warning or progress bar?): "
                f"{text[:200]!r}"
            )


@each_notebook
def test_imports_are_what_colab_has(path: Path) -> None:
    stdlib = set(sys.stdlib_module_names)
    for i, cell in code_cells(load(path)):
        tree = ast.parse(python_of(source(cell)), filename=f"{path.name} cell {i}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name} cell {i}: relative import"
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in stdlib or top in ALLOWED_IMPORTS, (
                    f"{path.name} cell {i}: imports {name!r}, which Colab does not preinstall"
                )


@each_notebook
def test_chapter_shape(path: Path) -> None:
    """One title, a set-up cell that seeds, exercises and a summary.

    Lines inside fenced code blocks (a shell comment, say) are not headings.
    """
    nb = load(path)
    md = [markdown_lines(source(c)) for c in nb["cells"] if c["cell_type"] == "markdown"]
    titles = [ln for lines in md for ln in lines if ln.startswith("# ")]
    assert len(titles) == 1, f"{path.name}: want one '# ' title, found {titles}"
    assert md and md[0] and md[0][0].startswith("# "), f"{path.name}: the first cell is the title"
    first_code = source(code_cells(nb)[0][1])
    assert "torch.manual_seed(" in first_code or "default_rng(" in first_code, (
        f"{path.name}: the set-up cell (first code cell) must seed"
    )
    headings = [ln.strip().lower() for lines in md for ln in lines if ln.startswith("## ")]
    assert "## exercises" in headings, f"{path.name}: no '## Exercises' section"
    assert "## summary" in headings, f"{path.name}: no '## Summary' section"


def test_every_notebook_is_in_the_toc_and_every_entry_exists() -> None:
    entries = toc_entries()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in entries, f"{path.name} is missing from _toc.yml"
    for entry in entries:
        found = [p for p in (ROOT / f"{entry}.ipynb", ROOT / f"{entry}.md") if p.exists()]
        assert found, f"_toc.yml names {entry!r}, which does not exist"


def test_every_notebook_is_in_the_chapter_map() -> None:
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS if f"](../notebooks/{p.name})" not in intro]
    assert not missing, f"book/intro.md links to no chapter {missing}"


@each_notebook
def test_nbval_markers_are_exact(path: Path) -> None:
    """nbval honours a marker only when the comment is the marker alone.

    `# NBVAL_IGNORE_OUTPUT: timings vary` is silently ignored (and the output
    checked after all); the reason goes on the next comment line. Markers belong in
    cell tags (`nbval-ignore-output`), out of the reader's way: scripts/standalone.py
    moves them there and tests/test_standalone.py checks that none is left.
    """
    for i, cell in code_cells(load(path)):
        for line in source(cell).splitlines():
            comment = line.strip().lstrip("#").strip()
            if line.strip().startswith("#") and comment.startswith("NBVAL_"):
                assert comment in NBVAL_MARKERS, (
                    f"{path.name} cell {i}: {line.strip()!r} is not a marker nbval reads; "
                    "write the marker alone on its line and the reason on the next"
                )


def solution_number(cell_source: str) -> int | None:
    """N if the cell's leading comment lines hold `# Solution to exercise N`.

    The line may follow an nbval marker and its reason, which must come first.
    """
    for line in cell_source.splitlines():
        if not line.strip().startswith("#"):
            return None
        m = SOLUTION.match(line.strip())
        if m:
            return int(m.group(1))
    return None


@each_notebook
def test_exercises_have_hidden_solutions(path: Path) -> None:
    """2 to 4 exercises, numbered from 1, each with a solution the site hides.

    A solution is a markdown `<details class="solution">` block after the exercise's
    heading, or a code cell tagged `hide-cell` whose leading comment lines (after
    any nbval marker) include `# Solution to exercise N`, N the current exercise.
    """
    exercises: dict[int, list[str]] = {}
    current = None
    in_section = False
    for i, cell in enumerate(load(path)["cells"]):
        text = source(cell)
        if cell["cell_type"] == "markdown":
            for line in markdown_lines(text):
                if line.startswith("## "):
                    in_section = line.strip().lower() == "## exercises"
                    current = None
                m = re.match(r"### Exercise (\d+)\s*$", line)
                if in_section and m:
                    current = int(m.group(1))
                    exercises[current] = []
                if current is not None and '<details class="solution">' in line:
                    exercises[current].append("details")
        elif (n := solution_number(text)) is not None:
            assert n == current, (
                f"{path.name} cell {i}: '# Solution to exercise {n}' "
                f"{'outside the exercises' if current is None else f'under exercise {current}'}"
            )
            tags = cell.get("metadata", {}).get("tags", [])
            assert "hide-cell" in tags, f"{path.name}: exercise {current}'s code not hidden"
            exercises[current].append("code")
    numbers = sorted(exercises)
    assert 2 <= len(numbers) <= 4, f"{path.name}: {len(numbers)} exercises, want 2 to 4"
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: numbered {numbers}"
    for n, solutions in exercises.items():
        assert solutions, f"{path.name}: exercise {n} has no hidden solution"

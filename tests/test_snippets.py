"""Shared code has one canonical file in book/snippets/, and every copy equals it.

The chapters stay self-contained for Colab, so the set-up cell and the digits loader
are copied into them; scripts/sync_snippets.py writes the copies and these tests fail,
naming the notebook and the cell, when one differs (CONTRIBUTING.md, "Shared code").
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import NOTEBOOKS, ROOT, code_cells, ids, load, source

SCRIPT = ROOT / "scripts" / "sync_snippets.py"
_spec = importlib.util.spec_from_file_location("sync_snippets", SCRIPT)
assert _spec and _spec.loader
sync = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = sync  # its dataclass looks its module up there
_spec.loader.exec_module(sync)

TEMPLATE = sync.TEMPLATE
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
SETUP = "book/snippets/setup.py"
DIGITS = "book/snippets/digits.py"

# Notebooks that may still carry the set-up cell written before book/snippets/
# existed (their owners were editing them when the copies were introduced). One
# that holds the shared copy is checked like the others; the rest are skipped.
# `python scripts/sync_snippets.py --write` adopts them all; then empty this set.
NOT_YET: set[str] = set()
# Notebooks that load the digits their own way, each with its reason.
DIGITS_NOT_YET: dict[str, str] = {
    "05_momentum_meets_noise.ipynb": "X, y name its least-squares data: digits are X_all, y_all",
    "11_beyond_sgd.ipynb": "X names its Newton-Schulz iterate: digits are X_all, y_all",
}


@pytest.fixture(scope="module")
def snippets() -> dict[str, dict[str, list[str]]]:
    return sync.load_snippets()


def not_adopted(path: Path) -> bool:
    """In NOT_YET and without a copy of setup.py."""
    return path.name in NOT_YET and all(file != SETUP for _, file in headers(path))


def headers(path: Path) -> list[tuple[int, str]]:
    """(cell index, file) of every copy's header in a notebook's code cells."""
    return [
        (i, m.group("file"))
        for i, cell in code_cells(load(path))
        for line in source(cell).splitlines()
        if (m := sync.HEADER.match(line))
    ]


def test_the_canonical_files_are_well_formed(snippets: dict) -> None:
    """Blocks with names, no blank line inside (a blank line ends a copy)."""
    assert set(snippets) >= {SETUP, DIGITS}, sorted(snippets)
    assert list(snippets[SETUP]) == ["seed", "device", "style", "colors"]
    for file in snippets:
        assert file in sync.HEADER_TEXT, f"{file}: give it a header text in sync_snippets.py"


TEXTS = [*NOTEBOOKS, TEMPLATE, CONTRIBUTING]


@pytest.mark.parametrize("path", TEXTS, ids=ids(TEXTS))
def test_every_copy_equals_its_canonical_file(path: Path, snippets: dict) -> None:
    problems = sync.check_file(path, snippets)
    assert not problems, "\n\n".join(problems)


CHAPTERS = [*NOTEBOOKS, TEMPLATE]


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_the_setup_cell_holds_the_shared_setup(path: Path) -> None:
    """The first code cell is the chapter's imports, then the copy of setup.py."""
    if not_adopted(path):
        pytest.skip(f"{path.name}: not adopted yet (NOT_YET)")
    first = code_cells(load(path))[0][0]
    found = [i for i, file in headers(path) if file == SETUP]
    assert found == [first], (
        f"{path.name}: want one copy of {SETUP}, in the set-up cell (cell {first}); "
        f"found in cells {found} (python scripts/sync_snippets.py --write {path.name})"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_the_digits_come_from_the_shared_loader(path: Path, snippets: dict) -> None:
    """Every cell that calls load_digits() does it inside a copy of digits.py."""
    cells = [(i, c) for i, c in code_cells(load(path)) if "load_digits(" in source(c)]
    if not cells or path.name in DIGITS_NOT_YET or not_adopted(path):
        reason = "not adopted yet (NOT_YET)" if not_adopted(path) else "does not load them"
        pytest.skip(DIGITS_NOT_YET.get(path.name, reason))
    for i, cell in cells:
        lines = source(cell).splitlines()
        inside = {
            n
            for c in sync.copies_in(lines, snippets)
            if c.file == DIGITS
            for n in range(c.header + 1, c.end)
        }
        calls = [n for n, line in enumerate(lines) if "load_digits(" in line]
        outside = [lines[n].strip() for n in calls if n not in inside]
        assert not outside, f"{path.name} cell {i}: loads the digits outside {DIGITS}: {outside}"


# --- The check can fail: broken copies on purpose. ---------------------------------


def synced_notebook() -> Path:
    """A notebook that holds both kinds of copy."""
    return ROOT / "notebooks" / "09_data_parallel.ipynb"


def test_a_changed_copy_is_named_then_rewritten(tmp_path: Path, snippets: dict) -> None:
    copy = tmp_path / synced_notebook().name
    shutil.copy(synced_notebook(), copy)
    nb = json.loads(copy.read_text(encoding="utf-8"))
    i = code_cells(nb)[0][0]
    text = source(nb["cells"][i])
    assert "torch.manual_seed(0)\n" in text
    nb["cells"][i]["source"] = text.replace("torch.manual_seed(0)\n", "torch.manual_seed(1)\n")
    copy.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    problems = "\n".join(sync.check_file(copy, snippets))
    assert f"cell {i} (id {nb['cells'][i]['id']})" in problems, problems
    assert f"differs from {SETUP}" in problems and "+torch.manual_seed(1)" in problems, problems
    assert sync.write_file(copy, snippets)
    assert sync.check_file(copy, snippets) == []
    assert copy.read_text(encoding="utf-8") == synced_notebook().read_text(encoding="utf-8")


def test_a_changed_canonical_file_is_caught(tmp_path: Path, monkeypatch) -> None:
    """Editing book/snippets/ without syncing makes every copy differ."""
    folder = tmp_path / "snippets"
    shutil.copytree(sync.SNIPPETS, folder)
    canonical = folder / "digits.py"
    canonical.write_text(canonical.read_text().replace("/ 16.0", "/ 15.0"), encoding="utf-8")
    monkeypatch.setattr(sync, "SNIPPETS", folder)
    problems = sync.check_file(synced_notebook(), sync.load_snippets())
    assert len(problems) == 2 and all(f"differs from {DIGITS}" in p for p in problems), problems


def test_a_bad_header_or_a_missing_line_is_caught(snippets: dict) -> None:
    lines = [
        "# Shared (book/snippets/setup.py: seed, devise).",
        "torch.manual_seed(0)",
        "",
        "# The digits (book/snippets/digits.py).",
        "digits = load_digits()",
        "",
        "# see book/snippets/setup.py",
    ]
    problems = [p for _, p in sync.problems_in(lines, snippets)]
    assert "has no block ['devise']" in problems[0], problems
    assert problems[1].startswith(f"differs from {DIGITS}") and "-X = torch.tensor" in problems[1]
    assert problems[2].startswith("not a header"), problems


def test_an_old_setup_cell_is_adopted(snippets: dict) -> None:
    """--write turns the pre-snippets set-up text into a header and the blocks used."""
    old = ["import torch", "", *sync.LEGACY[SETUP], "x = 1"]
    lines = sync.adopted(old, snippets, others="print(device)")
    assert lines[2] == f"# {sync.HEADER_TEXT[SETUP]} ({SETUP}: seed, device, style)."
    assert lines[-2:] == ["", "x = 1"], lines  # COLORS unused: dropped; a blank line ends it
    assert sync.problems_in(lines, snippets) == []
    again = sync.adopted(lines, snippets, others="print(device)")
    assert again == lines, "adopting twice changed the cell"

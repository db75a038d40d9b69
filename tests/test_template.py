"""The chapter template (book/templates/chapter.ipynb) passes every per-notebook test.

A new chapter starts as a copy of it (CONTRIBUTING.md, "Adding a chapter"), so it must
already be what the hygiene and metadata tests ask of a chapter. The tests are taken
from their modules, so a hygiene test added later applies to the template too. The
template is not a page of the site (it is not in _toc.yml) and nbval does not collect
it (pyproject.toml's testpaths); its shared set-up copy is checked by test_snippets.py
and its code by test_lint.py.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import test_metadata
import test_notebooks
from conftest import ROOT

TEMPLATE = ROOT / "book" / "templates" / "chapter.ipynb"


def per_notebook_tests() -> dict[str, Callable[[Path], None]]:
    """Every test of those modules that takes one notebook (`path`) and nothing else."""
    found = {}
    for module in (test_notebooks, test_metadata):
        for name, func in vars(module).items():
            if name.startswith("test_") and callable(func):
                if list(inspect.signature(func).parameters) == ["path"]:
                    found[f"{module.__name__}.{name}"] = func
    return found


TESTS = per_notebook_tests()


def test_the_per_notebook_tests_are_found() -> None:
    """Guards the discovery above: a renamed parameter would silently drop a test."""
    assert "test_notebooks.test_exercises_have_hidden_solutions" in TESTS, sorted(TESTS)
    assert "test_metadata.test_no_volatile_metadata" in TESTS, sorted(TESTS)
    assert len(TESTS) >= 12, sorted(TESTS)


@pytest.mark.parametrize("name", sorted(TESTS))
def test_the_template_passes(name: str) -> None:
    TESTS[name](TEMPLATE)


def test_the_template_is_not_a_page_or_a_chapter() -> None:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "templates" not in toc, "the template is not a chapter of the site"
    assert "only_build_toc_files: true" in (ROOT / "_config.yml").read_text(encoding="utf-8"), (
        "the site would build book/templates/chapter.ipynb as a page"
    )


def test_a_broken_template_fails(tmp_path: Path) -> None:
    """The reuse can fail: a solution cell that is not hidden fails the hygiene test."""
    nb = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        cell["metadata"].pop("tags", None)
    copy = tmp_path / "chapter.ipynb"
    copy.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    failed = {}
    for name in sorted(TESTS):
        try:
            TESTS[name](copy)
        except AssertionError as err:
            failed[name] = str(err)
    assert list(failed) == ["test_notebooks.test_exercises_have_hidden_solutions"], failed
    assert "exercise 1's code not hidden" in failed[list(failed)[0]]

"""Each notebook reads the same alone in JupyterLab or Colab as on the site.

scripts/standalone.py makes it so (citations as author–year text linked to the
chapter's own References list, links to book pages replaced by the chapter's own
Glossary and Notation sections, nbval markers moved into cell tags). These tests
check the result in the stored files; tests/test_jupyterlab.py checks it in
JupyterLab itself.

A notebook the script has not rewritten yet (no `sgd_book.standalone` in its
metadata) is skipped, until EVERY_NOTEBOOK is True: then it fails.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import NBVAL_MARKERS, NOTEBOOKS, ROOT, code_cells, ids, load, markdown_lines, source

# True once every notebook has been rewritten (scripts/standalone.py): from then on
# a notebook without the rewrite fails instead of being skipped.
EVERY_NOTEBOOK = True

SCRIPT = ROOT / "scripts" / "standalone.py"
_spec = importlib.util.spec_from_file_location("standalone", SCRIPT)
assert _spec and _spec.loader
standalone = importlib.util.module_from_spec(_spec)
sys.modules["standalone"] = standalone  # dataclasses look the module up
_spec.loader.exec_module(standalone)

# nbval's cell tags (nbval/plugin.py: the comment markers, lower case with hyphens).
NBVAL_TAGS = {m.lower().replace("_", "-") for m in NBVAL_MARKERS} | {"raises-exception"}
# MyST syntax that JupyterLab and Colab show as it is typed.
MYST = {
    "a role such as {cite:p}`key`": re.compile(r"\{[a-z][\w:-]*\}`"),
    "a directive fence such as ```{note}": re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*\{"),
    "a MyST target such as (label)=": re.compile(r"^\s*\([\w:-]+\)=\s*$"),
    "a substitution such as {{ name }}": re.compile(r"\{\{[^}]*\}\}"),
    "a labelled equation such as $$ (label)": re.compile(r"\$\$\s*\([\w:-]+\)\s*$"),
}
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|href=\"([^\"]+)\"")
ANCHOR_ID = re.compile(r"<a id=\"([^\"]+)\"")


@functools.cache
def sources() -> tuple:
    """The .bib, read once per session (pybtex takes a second or more to load it)."""
    return standalone.Bibliography.load(), standalone.glossary_entries()


def require_rewritten(nb: dict, path: Path) -> None:
    if nb.get("metadata", {}).get(standalone.KEY, {}).get("standalone"):
        return
    if EVERY_NOTEBOOK:
        pytest.fail(f"{path.name} is not standalone: run python scripts/standalone.py {path}")
    pytest.skip(f"{path.name}: not rewritten by scripts/standalone.py yet")


each_notebook = pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))


def markdown(nb: dict) -> list[tuple[int, str]]:
    return [(i, source(c)) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"]


def myst_in(text: str) -> list[str]:
    """What in `text` (outside fenced code and inline code) is MyST-only syntax."""
    found = []
    for line in markdown_lines(text):
        for what, pattern in MYST.items():
            if pattern.search(line):
                found.append(f"{what}: {line.strip()[:80]!r}")
    return found


def broken_links(nb: dict, folder: Path) -> list[str]:
    """Links that do not resolve in a notebook opened alone or next to its siblings.

    `#id` must name an `<a id>` anchor of the same notebook; a relative link must be
    a sibling notebook (a chapter); web links must be https.
    """
    text = "\n".join(s for _, s in markdown(nb))
    anchors = set(ANCHOR_ID.findall(text))
    bad = []
    for m in LINK.finditer("\n".join("\n".join(markdown_lines(s)) for _, s in markdown(nb))):
        target = m.group(1) or m.group(2)
        if target.startswith("https://"):
            continue
        if target.startswith("#"):
            if target[1:] not in anchors:
                bad.append(f"{target} (no <a id> anchor of that name)")
            continue
        page = target.split("#")[0]
        if "/" in page or not page.endswith(".ipynb") or not (folder / page).exists():
            bad.append(f"{target} (not a chapter next to this one)")
    return bad


@each_notebook
def test_no_myst_syntax_in_markdown(path: Path) -> None:
    nb = load(path)
    require_rewritten(nb, path)
    found = [f"cell {i}: {f}" for i, s in markdown(nb) for f in myst_in(s)]
    assert not found, f"{path.name}: MyST syntax JupyterLab shows raw: " + "; ".join(found[:5])


@each_notebook
def test_every_link_resolves(path: Path) -> None:
    nb = load(path)
    require_rewritten(nb, path)
    bad = broken_links(nb, path.parent)
    assert not bad, f"{path.name}: links that do not work alone: " + "; ".join(bad[:5])


@each_notebook
def test_nbval_markers_are_tags(path: Path) -> None:
    """No `# NBVAL_...` comment for the reader to read past; the tag does its work."""
    nb = load(path)
    require_rewritten(nb, path)
    for i, cell in code_cells(nb):
        comments = [ln.strip() for ln in source(cell).splitlines() if ln.strip().startswith("#")]
        left = [c for c in comments if c.lstrip("#").strip().startswith("NBVAL_")]
        assert not left, f"{path.name} cell {i}: marker comment {left[0]!r}: make it a tag"


@each_notebook
def test_nbval_tags_are_ones_nbval_reads(path: Path) -> None:
    """A misspelt tag (`nbval-ignore-outputs`) is silently ignored by nbval."""
    for i, cell in enumerate(load(path)["cells"]):
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith("nbval") or "exception" in tag:
                assert tag in NBVAL_TAGS, f"{path.name} cell {i}: {tag!r} is no nbval tag"


@each_notebook
def test_generated_sections_are_current(path: Path) -> None:
    """The References, Glossary and Notation sections are what the script writes from
    book/references.bib, book/glossary.md and book/notation.md as they are now."""
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    require_rewritten(nb, path)
    standalone.transform(nb, *sources())
    fresh = nbformat.writes(nb)
    assert fresh.rstrip("\n") == text.rstrip("\n"), (
        f"{path.name}: out of date with the book's bib, glossary or notation "
        f"(run: python scripts/standalone.py notebooks/{path.name})"
    )


SAMPLE_MARKDOWN = (
    "# Title\n\nAs {cite:t}`polyak1964` showed, [momentum](../book/glossary.md) "
    "and [minibatches](../book/glossary.md) help {cite:p}`nesterov1983,sutskever2013`; "
    "see the [notation](../book/notation.md) and [chapter 3](03_momentum.ipynb).\n\n"
    "```python\n# {cite:p}`polyak1964` in code stays\n```"
)
SAMPLE_CODE = (
    "# NBVAL_IGNORE_OUTPUT\n# The device differs between machines.\nprint(device)",
    "# NBVAL_IGNORE_OUTPUT\n# (timings vary)\nprint(t)",
    "# NBVAL_SKIP\n# The counts depend on the CPU's kernels.\nprint(n)",
)


def sample() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(SAMPLE_MARKDOWN)]
    nb.cells += [nbformat.v4.new_code_cell(c) for c in SAMPLE_CODE]
    return nb


def test_the_script_on_a_sample(tmp_path: Path) -> None:
    """Roles, book links and markers in, a notebook the tests above accept out;
    a second run changes nothing; the untouched sample fails them."""
    nb = sample()
    assert myst_in(SAMPLE_MARKDOWN), "the MyST check misses a role"
    assert broken_links(nb, ROOT / "notebooks"), "the link check misses ../book/ links"
    bib, terms = sources()
    standalone.transform(nb, bib, terms)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "[Polyak (1964)](#ref-polyak1964)" in text
    assert "([Nesterov, 1983](#ref-nesterov1983); [Sutskever et al., 2013]" in text
    assert "[momentum](#term-momentum)" in text and "[minibatches](#term-minibatch)" in text
    assert "# {cite:p}`polyak1964` in code stays" in text, "code in markdown was rewritten"
    assert not [f for c in nb.cells if c.cell_type == "markdown" for f in myst_in(c.source)]
    assert not broken_links(nb, ROOT / "notebooks")
    headings = [c.source.splitlines()[0] for c in nb.cells[4:]]
    want = ["## Terms used in this chapter", "## Symbols and conventions", "## Works cited"]
    assert headings == want, headings
    refs = nb.cells[-1].source
    assert refs.index("ref-nesterov1983") < refs.index("ref-polyak1964") < refs.index("ref-sut")
    assert "\\[Sutskever et al., 2013\\] Ilya Sutskever" in refs
    device, timing, skip = (c for c in nb.cells if c.cell_type == "code")
    assert (device.source, device.metadata.tags) == ("print(device)", ["nbval-ignore-output"])
    assert timing.source == f"{standalone.TIMING_REASON}\nprint(t)"
    assert skip.source.startswith("# The counts") and skip.metadata.tags == ["nbval-skip"]
    once = nbformat.writes(nb)
    standalone.transform(nb, bib, terms)
    assert nbformat.writes(nb) == once, "a second run changed the notebook"
    # A label gone stale (a new entry moved the letter after the year) is refreshed.
    nb.cells[0].source = nb.cells[0].source.replace("Polyak (1964)", "Polyak (1964b)")
    standalone.transform(nb, bib, terms)
    assert nbformat.writes(nb) == once, "a stale label was not refreshed"


@pytest.mark.parametrize(
    ("markdown_text", "error"),
    [
        ("{cite:p}`no_such_key`", "no entry 'no_such_key'"),
        ("[no such term](../book/glossary.md)", "names no term"),
        ("[intro](../book/intro.md)", "cannot reach"),
    ],
)
def test_the_script_refuses_what_it_cannot_rewrite(markdown_text: str, error: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown_text)]
    with pytest.raises(KeyError, match=error):
        standalone.transform(nb, *sources())


def test_labels_are_the_references_page_labels() -> None:
    """The notebooks' labels are the ones the site's references page prints (the
    `authoryear` pybtex style of book/_ext/authoryear.py): unique, author–year."""
    from pybtex.database import parse_file

    bib = sources()[0]
    entries = parse_file(str(standalone.BIB)).entries
    page = standalone.authoryear.AuthorYearStyle().format_entries(entries.values())
    page_labels = {e.key: e.label for e in page}
    ours = {k: f"{a}, {y}" for k, (a, y) in bib.labels.items()}
    assert ours == page_labels
    assert len(set(ours.values())) == len(ours), "two works share a label"
    assert ours["sutskever2013"] == "Sutskever et al., 2013"
    assert ours["robbins1951"] == "Robbins and Monro, 1951"
    assert all(re.search(r", \d{4}[a-z]?$", label) for label in ours.values()), ours

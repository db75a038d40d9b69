"""Make each notebook read the same in JupyterLab, in Colab and on the site.

    python scripts/standalone.py [--check] [NOTEBOOK.ipynb ...]

A chapter is written once, for three readers: the site (Jupyter Book, MyST), and
JupyterLab or Colab opening the notebook alone, which render plain Markdown. This
script rewrites what only the site understands, and is idempotent:

- **Citations.** `{cite:t}`key`` becomes "[Sutskever et al. (2013)](#ref-key)" and
  `{cite:p}`a,b`` "([Nesterov, 1983](#ref-a); [Sutskever et al., 2013](#ref-b))":
  author–year text, linked to a `## Works cited` list at the end of the notebook
  that holds the works the chapter cites, formatted from book/references.bib as the
  site's references page formats them, with the same labels (book/_ext/authoryear.py).
  Citations written by an earlier run get the label the .bib gives them now.
- **Links to book pages**, which a notebook opened alone cannot reach.
  `[minibatch](../book/glossary.md)` becomes `[minibatch](#term-minibatch)`, and the
  definition, from book/glossary.md, goes into a `## Terms used in this chapter` list;
  a link to the whole glossary goes to that list. A link to book/notation.md goes to
  a `## Symbols and conventions` section that holds the notation page. (The headings
  avoid the titles of the book pages, Glossary, Notation and References, which the
  PDF's table of contents lists too.) Links between chapters are
  left alone (they work everywhere); any other link to ../book/ is an error.
- **nbval markers.** A `# NBVAL_IGNORE_OUTPUT` (or other marker) comment becomes the
  cell tag nbval also reads (`nbval-ignore-output`), which no reader sees. The
  reason line under it stays where it tells the reader something (timings and digits
  differ on their machine), in one wording for timings, and goes where it only
  concerned the test (the device line).

The appended sections are generated cells (cell metadata `sgd_book.generated`); each
run regenerates them from the links in the text and from the .bib, glossary and
notation as they are now. The notebook is marked `sgd_book.standalone` in its
metadata (the tests check every notebook that carries it). Outputs are untouched.
With --check nothing is written: it names each notebook that would change, exits 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from pybtex.backends.markdown import Backend as MarkdownBackend
from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import authoryear  # noqa: E402  (book/_ext/authoryear.py: the labels of the site)

BIB = ROOT / "book" / "references.bib"
GLOSSARY = ROOT / "book" / "glossary.md"
NOTATION = ROOT / "book" / "notation.md"
KEY = "sgd_book"  # notebook and cell metadata written by this script

ROLE = re.compile(r"\{cite:(p|t)\}`([^`]+)`")
# A citation this script wrote: "[Polyak (1964)](#ref-polyak1964)" or "[Polyak, 1964](...)".
CITATION = re.compile(r"\[([^\]]+)\]\(#ref-([a-z0-9-]+)\)")
BOOK_LINK = re.compile(r"\[([^\]]+)\]\(\.\./book/([A-Za-z0-9_.-]+?)(#[^)\s]*)?\)")
NOTEBOOK_LINK = re.compile(r"\]\(\.\./notebooks/([^)\s]+)\)")
ANCHOR_LINK = re.compile(r"\]\(#((?:ref|term)-[a-z0-9-]+|glossary-list|notation-page)\)")
NBVAL_TAGS = {
    "NBVAL_IGNORE_OUTPUT": "nbval-ignore-output",
    "NBVAL_CHECK_OUTPUT": "nbval-check-output",
    "NBVAL_RAISES_EXCEPTION": "nbval-raises-exception",
    "NBVAL_SKIP": "nbval-skip",
}
# Reason lines under a marker that concern only the test: dropped with the marker.
TEST_ONLY_REASONS = {"# The device differs between machines."}
# Reason lines about timings, in the four wordings the chapters used: one wording.
TIMING_REASON = "# Timings differ between machines and with their load."
TIMING_REASONS = {
    "# (timings vary)",
    "# Timings vary.",
    "# Times differ between machines and with their load.",
    TIMING_REASON,
}
SECTION_IDS = {"glossary": "glossary-list", "notation": "notation-page"}


def anchor(name: str) -> str:
    """An anchor every renderer keeps (`name` for those that drop `id`)."""
    return f'<a id="{name}" name="{name}"></a>'


# --- sources ------------------------------------------------------------------------


@dataclass
class Bibliography:
    """book/references.bib with the site's labels and entry text."""

    labels: dict[str, tuple[str, str]] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path = BIB) -> Bibliography:
        style = authoryear.AuthorYearStyle()
        entries = parse_file(str(path)).entries
        bib = cls()
        for entry in style.format_entries(entries.values()):
            bib.order.append(entry.key)
            bib.text[entry.key] = plain_markdown(entry.text.render(MarkdownBackend()))
        ordered = [entries[k] for k in bib.order]
        bib.labels = dict(zip(bib.order, authoryear.author_year_labels(ordered)))
        return bib


def plain_markdown(text: str) -> str:
    """pybtex's Markdown on one line, without escapes that CommonMark does not need."""
    text = re.sub(r"\\([.()\-:])", r"\1", " ".join(text.split()))
    # `howpublished = {\url{...}}` comes out as "\\url https://..." (the site's
    # bibliography decodes it into a link; pybtex's Markdown backend does not).
    return re.sub(
        r"\\\\url (https?://[^\s,]+)",
        lambda m: "<" + m.group(1).replace("\\_", "_") + ">",
        text,
    )


def glossary_entries(path: Path = GLOSSARY) -> dict[str, tuple[str, str]]:
    """slug -> (term, definition as one Markdown paragraph), from the {glossary} block."""
    lines = path.read_text(encoding="utf-8").split("```{glossary}", 1)[1].split("\n```")[0]
    entries: dict[str, tuple[str, str]] = {}
    term = None
    body: list[str] = []
    for line in lines.splitlines()[1:]:
        if line.startswith(":") or not line.strip():
            continue
        if not line.startswith(" "):
            if term:
                entries[authoryear.slug(term)] = (term, " ".join(body))
            term, body = line.strip(), []
        else:
            body.append(NOTEBOOK_LINK.sub(r"](\1)", line.strip()))
    if term:
        entries[authoryear.slug(term)] = (term, " ".join(body))
    return entries


def notation_page(path: Path = NOTATION) -> str:
    """The notation page without its title, links made relative to notebooks/."""
    text = path.read_text(encoding="utf-8").split("\n", 1)[1].strip()
    return NOTEBOOK_LINK.sub(r"](\1)", text)


# --- rewriting ------------------------------------------------------------------


def cite(kind: str, keys: str, bib: Bibliography) -> str:
    parts = []
    for key in (k.strip() for k in keys.split(",")):
        if key not in bib.labels:
            raise KeyError(f"no entry {key!r} in {BIB.relative_to(ROOT)}")
        author, year = bib.labels[key]
        label = f"{author} ({year})" if kind == "t" else f"{author}, {year}"
        parts.append(f"[{label}](#ref-{authoryear.slug(key)})")
    return "; ".join(parts) if kind == "t" else f"({'; '.join(parts)})"


def relabel(m: re.Match, bib: Bibliography) -> str:
    """A citation written before, with the label the .bib gives its work now (a new
    entry by the same authors in the same year moves the a, b, c after the year)."""
    keys = [k for k in bib.labels if authoryear.slug(k) == m.group(2)]
    if not keys:
        raise KeyError(f"a citation of #ref-{m.group(2)}, which book/references.bib lacks")
    author, year = bib.labels[keys[0]]
    textual = m.group(1).endswith(")")
    label = f"{author} ({year})" if textual else f"{author}, {year}"
    return f"[{label}](#ref-{m.group(2)})"


def singular(word: str) -> list[str]:
    forms = [word]
    if word.endswith("es"):
        forms.append(word[:-2])
    if word.endswith("s"):
        forms.append(word[:-1])
    return forms


def glossary_target(text: str, terms: dict[str, tuple[str, str]]) -> str:
    """The anchor a glossary link's text points to: its term, or the whole list."""
    words = re.sub(r"[*_`]", "", text).strip()
    if words.lower() == "glossary":
        return SECTION_IDS["glossary"]
    for form in singular(words):
        for slug, (term, _) in terms.items():
            short = re.sub(r"\s*\([^)]*\)$", "", term)
            if authoryear.slug(form) in (slug, authoryear.slug(short)):
                return f"term-{slug}"
    raise KeyError(f"glossary link {text!r} names no term of {GLOSSARY.relative_to(ROOT)}")


def rewrite_markdown(text: str, bib: Bibliography, terms: dict) -> str:
    """Citation roles and links to book pages, outside fenced code."""
    out, fence = [], None
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None:
            if stripped.startswith(fence):
                fence = None
        else:
            line = CITATION.sub(lambda m: relabel(m, bib), line)
            line = ROLE.sub(lambda m: cite(m.group(1), m.group(2), bib), line)
            line = BOOK_LINK.sub(lambda m: book_link(m, terms), line)
        out.append(line)
    return "".join(out)


def book_link(m: re.Match, terms: dict) -> str:
    text, page = m.group(1), m.group(2)
    if page == "glossary.md":
        return f"[{text}](#{glossary_target(text, terms)})"
    if page == "notation.md":
        return f"[{text}](#{SECTION_IDS['notation']})"
    raise KeyError(f"link to ../book/{page}, which a notebook opened alone cannot reach")


def move_markers(source: str, tags: list[str]) -> str:
    """nbval marker comments -> tags; the reason line kept where it helps a reader."""
    lines = source.splitlines()
    out: list[str] = []
    drop_reason = False
    for line in lines:
        comment = line.strip().lstrip("#").strip()
        if line.strip().startswith("#") and comment in NBVAL_TAGS:
            if NBVAL_TAGS[comment] not in tags:
                tags.append(NBVAL_TAGS[comment])
            drop_reason = True
            continue
        if drop_reason:
            drop_reason = False
            if line.strip() in TEST_ONLY_REASONS:
                continue
            if line.strip() in TIMING_REASONS:
                line = TIMING_REASON
        out.append(line)
    return "\n".join(out)


# --- generated sections -----------------------------------------------------------


def generated_cells(text: str, bib: Bibliography, terms: dict) -> list[tuple[str, str]]:
    """(id, markdown) of the sections the links in `text` need, in reading order."""
    wanted = set(ANCHOR_LINK.findall(text))
    cells = []
    term_slugs = sorted(
        (w.removeprefix("term-") for w in wanted if w.startswith("term-")),
        key=lambda s: terms[s][0].lower(),
    )
    if term_slugs or SECTION_IDS["glossary"] in wanted:
        items = [
            f"- {anchor('term-' + s)}**{terms[s][0]}**: "
            + rewrite_markdown(terms[s][1], bib, terms)
            for s in term_slugs
        ]
        body = "\n".join(items) or "(This chapter links to no term.)"
        cells.append(
            (
                "glossary",
                f"## Terms used in this chapter\n\n{anchor(SECTION_IDS['glossary'])}"
                "The terms this chapter links to, as the book's glossary defines them.\n\n" + body,
            )
        )
    if SECTION_IDS["notation"] in wanted:
        page = rewrite_markdown(notation_page(), bib, terms)
        heading = f"## Symbols and conventions\n\n{anchor(SECTION_IDS['notation'])}"
        cells.append(("notation", heading + page))
    cited = set(ANCHOR_LINK.findall(text + "\n".join(c for _, c in cells)))
    refs = [k for k in bib.order if f"ref-{authoryear.slug(k)}" in cited]
    unknown = {w for w in cited if w.startswith("ref-")} - {
        f"ref-{authoryear.slug(k)}" for k in refs
    }
    if unknown:
        raise KeyError(f"links to {sorted(unknown)}, which book/references.bib lacks")
    if refs:
        items = []
        for k in refs:
            author, year = bib.labels[k]
            items.append(
                f"- {anchor('ref-' + authoryear.slug(k))}\\[{author}, {year}\\] {bib.text[k]}"
            )
        cells.append(("references", "## Works cited\n\n" + "\n".join(items)))
    return cells


def transform(nb: nbformat.NotebookNode, bib: Bibliography, terms: dict) -> None:
    """Rewrite `nb` in place (idempotent)."""
    nb.cells = [c for c in nb.cells if KEY not in c.get("metadata", {})]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_markdown(cell.source, bib, terms)
        elif cell.cell_type == "code":
            tags = list(cell.metadata.get("tags", []))
            cell.source = move_markers(cell.source, tags)
            if tags:
                cell.metadata["tags"] = tags
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for cell_id, md in generated_cells(text, bib, terms):
        cell = nbformat.v4.new_markdown_cell(md, id=cell_id)
        cell.metadata[KEY] = {"generated": cell_id}
        nb.cells.append(cell)
    nb.metadata[KEY] = {"standalone": True}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if any")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    bib, terms = Bibliography.load(), glossary_entries()
    changed = failed = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
        try:
            transform(nb, bib, terms)
        except KeyError as e:  # a citation or link it cannot rewrite: say which, go on
            print(f"{path}: {e.args[0]}")
            failed += 1
            continue
        out = nbformat.writes(nb)
        out = out if out.endswith("\n") else out + "\n"
        if out == text:
            continue
        changed += 1
        if args.check:
            print(f"{path}: not standalone yet (run: python scripts/standalone.py {path})")
        else:
            path.write_text(out, encoding="utf-8")
            print(f"{path}: rewritten")
    if failed:
        return 2
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

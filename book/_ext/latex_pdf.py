"""The PDF (`make pdf`, the LaTeX builder only; the site is unchanged).

**Solutions.** The code solutions are cells tagged ``hide-cell``, collapsed on the
site; Jupyter Book's LaTeX transform (sphinx-jupyterbook-latex) drops such cells
from the PDF altogether. A book on paper cannot unfold them, so they are printed:
the tag is taken off before that transform runs (each starts with its own
``# Solution to exercise N`` line). Hidden inputs (``hide-input``) stay hidden.

**Tables.** Sphinx sets a long table's columns ``lll``, which never wrap: the
notation table ran 8 inches past the page. A table with a cell longer than a short
phrase gets column widths in proportion to its longest cell in each column (at
least 8 and at most 60 characters' worth), so that its text wraps in the page.

**Display equations**: their ``\\tag``, and their width.

The chapters number their equations by hand, ``$$ ... \\tag{3.2} $$``: MathJax
shows the tag on the site. Sphinx's LaTeX writer wraps every display equation in
``equation*`` + ``split``, where amsmath forbids ``\\tag`` ("\\tag not allowed
here": the PDF build stops). For the LaTeX builder only, this moves each tag out of
the lines, where amsmath allows it: ``\\begin{equation*}\\sgdfit{...}\\tag{3.2}
\\end{equation*}``, and ``\\sgdfit`` (book/_latex/sgdbook.sty) shrinks the few
equations wider than the page to its width (two lines joined by ``\\qquad``,
written for a browser window). An equation with a tag on each of several lines
becomes an ``align*``.
"""

import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

TAG = re.compile(r"\\tag\*?\{[^{}]*\}")


def wrap(text: str, numbered: bool = False) -> str:
    """The LaTeX for a display equation: its lines in \\sgdfit (book/_latex/sgdbook.sty,
    shrunk to the text width when wider), its tags after them."""
    tags = TAG.findall(text)
    body = text.strip()
    if len(tags) > 1:
        # A tag on each of several lines: an align*, where each line may carry its own.
        parts = [p.strip() for p in body.split("\n\n") if p.strip()]
        return "\\begin{align*}" + "\\\\\n".join(parts) + "\\end{align*}"
    body = " \\\\\n".join(p.strip() for p in TAG.sub("", body).split("\n\n") if p.strip())
    room = "[4em]" if tags else ""  # leave the tag its place on the line
    env = "equation" if numbered and not tags else "equation*"
    return f"\\begin{{{env}}}\\sgdfit{room}{{{body}}}{''.join(tags)}\\end{{{env}}}"


def tags_out_of_split(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "latex":
        return
    for node in doctree.findall(nodes.math_block):
        if node.get("nowrap"):
            continue
        latex = wrap(node.astext(), numbered=bool(node.get("label")))
        if node.get("label"):
            # Sphinx writes \label before a nowrap equation; keep it inside.
            label = f"\\label{{equation:{node.get('docname', docname)}:{node['label']}}}"
            latex = latex.replace("}", "}" + label, 1)
            node["label"] = None
        node["nowrap"] = True
        node.children = [nodes.Text(latex)]


class PrintSolutions(SphinxPostTransform):
    """Untag the hide-cell cells, before sphinx-jupyterbook-latex (priority 400)
    replaces them with a node that renders nothing."""

    default_priority = 390
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for node in self.document.findall(nodes.container):
            if "tag_hide-cell" in node["classes"]:
                node["classes"].remove("tag_hide-cell")


class WrapTables(SphinxPostTransform):
    """Column widths (as ``:widths:`` would give) for tables with long cells."""

    default_priority = 390
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for table in self.document.findall(nodes.table):
            if "colwidths-given" in table["classes"]:
                continue
            for tgroup in table.findall(nodes.tgroup):
                colspecs = [c for c in tgroup.children if isinstance(c, nodes.colspec)]
                longest = [8] * len(colspecs)
                for row in tgroup.findall(nodes.row):
                    for i, entry in enumerate(row.children[: len(colspecs)]):
                        longest[i] = max(longest[i], min(60, len(entry.astext())))
                if max(longest) < 30:
                    continue
                for colspec, width in zip(colspecs, longest, strict=True):
                    colspec["colwidth"] = width
                table["classes"].append("colwidths-given")


def setup(app: Sphinx) -> dict:
    app.add_post_transform(PrintSolutions)
    app.add_post_transform(WrapTables)
    app.connect("doctree-resolved", tags_out_of_split)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

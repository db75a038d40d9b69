"""Display equations with a ``\\tag`` typeset in the PDF (`make pdf`).

The chapters number their equations by hand, ``$$ ... \\tag{3.2} $$``: MathJax
shows the tag on the site. Sphinx's LaTeX writer wraps every display equation in
``equation*`` + ``split``, where amsmath forbids ``\\tag`` ("\\tag not allowed
here": the PDF build stops). For the LaTeX builder only, this moves each tag out of
the ``split``, where amsmath allows it: ``\\begin{equation*}\\begin{split} ...
\\end{split}\\tag{3.2}\\end{equation*}``; an equation with a tag on each of several
lines becomes an ``align*``. The site is unchanged.
"""

import re

from docutils import nodes
from sphinx.application import Sphinx

TAG = re.compile(r"\\tag\*?\{[^{}]*\}")


def wrap(text: str) -> str | None:
    """The LaTeX for a display equation with tags, or None if it has none."""
    tags = TAG.findall(text)
    if not tags:
        return None
    body = text.strip()
    if len(tags) == 1:
        body = TAG.sub("", body).strip()
        return f"\\begin{{equation*}}\\begin{{split}}{body}\\end{{split}}{tags[0]}\\end{{equation*}}"
    # Several tags: one per line of an align*, where each line may carry its own.
    parts = [p.strip() for p in body.split("\n\n") if p.strip()]
    return "\\begin{align*}" + "\\\\\n".join(parts) + "\\end{align*}"


def tags_out_of_split(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "latex":
        return
    for node in doctree.findall(nodes.math_block):
        if node.get("nowrap"):
            continue
        latex = wrap(node.astext())
        if latex is None:
            continue
        if node.get("label"):
            # Sphinx writes \label before a nowrap equation; keep it inside.
            label = f"\\label{{equation:{node.get('docname', docname)}:{node['label']}}}"
            latex = latex.replace("}", "}" + label, 1)
            node["label"] = None
        node["nowrap"] = True
        node.children = [nodes.Text(latex)]


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", tags_out_of_split)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

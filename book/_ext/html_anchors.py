"""Let `[text](#id)` links reach `<a id="id"></a>` anchors written in markdown cells.

The notebooks stand alone in JupyterLab and Colab (scripts/standalone.py): a
citation is a link to an entry of the chapter's own References list, a glossary
term a link to the chapter's Glossary list, and each entry starts with a plain
HTML anchor, `<a id="ref-polyak1964" name="ref-polyak1964"></a>`, which every
Markdown renderer keeps. MyST, however, resolves `#id` links itself and knows no
target in raw HTML: it would warn "reference target not found" (an error under
--warningiserror) and drop the link.

This transform runs before MyST's (priority 879): it turns each such anchor (the
raw HTML node, or the pair `<a ...>` `</a>` that inline HTML becomes) into a
docutils target with that id, and points each `#id` link of the same page at it.
Nothing is registered as a Sphinx label, so the same id in two chapters is no
duplicate; the HTML gets `<span id="ref-polyak1964"></span>` (no duplicate id),
and the LaTeX builder a label, so the links also work in a PDF.
"""

from __future__ import annotations

import re

from docutils import nodes
from docutils.transforms import Transform

ANCHOR = re.compile(r'^\s*<a id="([A-Za-z0-9_-]+)"(?: name="\1")?>\s*(?:</a>)?\s*$')


class HtmlAnchors(Transform):
    default_priority = 500  # before myst_parser's ResolveAnchorIds (879)

    def apply(self, **kwargs) -> None:
        ids: set[str] = set()
        for raw in list(self.document.findall(nodes.raw)):
            if "html" not in raw.get("format", "").split():
                continue
            m = ANCHOR.match(raw.astext())
            if not m:
                continue
            nxt = raw.next_node(descend=False, siblings=True)
            if not raw.astext().strip().endswith("</a>"):
                if not (isinstance(nxt, nodes.raw) and nxt.astext().strip() == "</a>"):
                    continue
                nxt.parent.remove(nxt)
            ids.add(m.group(1))
            raw.parent.replace(raw, nodes.target("", "", ids=[m.group(1)]))
        if not ids:
            return
        for ref in self.document.findall(nodes.reference):
            uri = ref.get("refuri", "")
            if ref.get("id_link") and uri.startswith("#") and uri[1:] in ids:
                del ref["refuri"]
                del ref["id_link"]
                ref["refid"] = uri[1:]
                ref["internal"] = True


def setup(app):
    app.add_transform(HtmlAnchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

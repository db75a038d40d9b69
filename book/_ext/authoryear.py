"""Author–year labels for the references page, the same labels the notebooks print.

Citations read author–year everywhere ("Sutskever et al., 2013"): on the site's
book pages (sphinxcontrib-bibtex's `author_year` reference style) and in the
notebooks (written as text by scripts/standalone.py, which imports this module).
pybtex's `plain` style would number the references page [1]–[26] instead, so the
page uses `authoryear`, registered here: `plain`'s sorting and entry text, with
labels "Polyak, 1964", "Robbins and Monro, 1951", "Sutskever et al., 2013". Two
entries with the same label get a, b, ... after the year, counted over the whole
.bib in sorted order, so that "2026b" names the same work in every notebook and on
the page.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator

from pybtex.backends.plaintext import Backend as PlainTextBackend
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle

STYLE_NAME = "authoryear"


def _plain(latex: str) -> str:
    """A BibTeX string as plain text: braces dropped, accents decoded.

    (`render(backend)`, not `render_as("text")`, which looks the backend up among
    all installed packages' entry points on every call: seconds per .bib.)
    """
    return Text.from_latex(latex).render(PlainTextBackend())


def author_and_year(entry) -> tuple[str, str]:
    """("Sutskever et al.", "2013"): the author part and the year of a label."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [_plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
    if not last:
        author = _plain(entry.fields.get("organization", entry.key))
    elif len(last) == 1:
        author = last[0]
    elif len(last) == 2:
        author = f"{last[0]} and {last[1]}"
    else:
        author = f"{last[0]} et al."
    return author, _plain(entry.fields.get("year", "n.d."))


def author_year_labels(sorted_entries: Iterable) -> Iterator[tuple[str, str]]:
    """(author, year with a, b, ... where two entries would share a label), in order."""
    entries = list(sorted_entries)
    parts = [author_and_year(e) for e in entries]
    count = Counter(parts)
    seen: defaultdict[tuple[str, str], int] = defaultdict(int)
    for author, year in parts:
        suffix = ""
        if count[author, year] > 1:
            suffix = "abcdefghijklmnopqrstuvwxyz"[seen[author, year]]
            seen[author, year] += 1
        yield author, year + suffix


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for author, year in author_year_labels(sorted_entries):
            yield f"{author}, {year}"


class AuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabelStyle


def slug(text: str) -> str:
    """An HTML id made of lower-case letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def setup(app):
    register_plugin("pybtex.style.labels", STYLE_NAME, AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", STYLE_NAME, AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

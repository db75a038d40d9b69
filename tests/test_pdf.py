"""The PDF of the whole book (`make pdf`, _build/pdf/book.pdf), read as a reader would.

These tests run in `make test-pdf` (CI's own step after `make test`: the LaTeX build
takes minutes, longer than `make test`'s time goal), which builds the PDF first and
sets SGD_PDF_TEST=1; then a missing PDF FAILS. In other runs (`make test`, a plain
`pytest`) they are skipped, so that a PDF left from an older build is not judged.
The text and the images come from poppler (pdftotext, pdfimages, pdfinfo), which
scripts/ensure_tex.sh installs with TeX Live.
"""

import json
import os
import re
import shutil
import subprocess
import unicodedata
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PDF = Path(os.environ.get("SGD_PDF_PATH", ROOT / "_build" / "pdf" / "book.pdf"))

pytestmark = pytest.mark.skipif(
    os.environ.get("SGD_PDF_TEST") != "1",
    reason="the PDF is checked by `make test-pdf` (builds it, sets SGD_PDF_TEST=1)",
)


def poppler(*args: str) -> str:
    tool = args[0]
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} not found: run scripts/ensure_tex.sh (poppler-utils)")
    if not PDF.is_file():
        pytest.fail(f"{PDF} is missing: run `make pdf`")
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def squash(text: str) -> str:
    """Letters and digits only, lower case: robust to line breaks, hyphenation,
    typographic quotes and the way code in a title is set."""
    return re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKD", text).lower())


@cache
def text() -> str:
    return poppler("pdftotext", "-enc", "UTF-8", str(PDF), "-")


def pages() -> list[str]:
    return text().split("\f")


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [c["file"] for c in part["chapters"]]
    return files


def title(file: str) -> str:
    """The page's `# ` heading, as the site and the PDF show it."""
    if file.startswith("notebooks/"):
        nb = json.loads((ROOT / f"{file}.ipynb").read_text())
        lines = [
            line
            for cell in nb["cells"]
            if cell["cell_type"] == "markdown"
            for line in "".join(cell["source"]).splitlines()
        ]
    else:
        lines = (ROOT / f"{file}.md").read_text().splitlines()
    return next(line[2:].strip() for line in lines if line.startswith("# "))


def notebooks() -> list[dict]:
    return [
        json.loads((ROOT / f"{f}.ipynb").read_text())
        for f in toc_files()
        if f.startswith("notebooks/")
    ]


def test_every_chapter_title_twice():
    """Each page of _toc.yml is in the PDF: its title in the table of contents and
    at the head of its chapter (the landing page's title is the PDF's own title)."""
    body = squash(text())
    missing = {}
    for file in toc_files()[1:]:
        count = body.count(squash(title(file)))
        if count < 2:
            missing[file] = (title(file), count)
    assert not missing, f"titles found fewer than twice (contents + chapter): {missing}"


def test_table_of_contents_first():
    head = "\n".join(pages()[:12])
    assert "contents" in head.lower(), "no table of contents in the first pages"
    # The contents list the chapters with page numbers, in the order of _toc.yml.
    found = [squash(head).find(squash(title(f))) for f in toc_files()[1:]]
    assert -1 not in found and found == sorted(found), (
        "the table of contents does not list every chapter in the book's order"
    )
    # Numbered as the book numbers them (notebooks/04_nesterov is chapter 4: the prose
    # and the equation tags say so), not from 1.
    lines = poppler("pdftotext", "-layout", "-l", "12", str(PDF), "-").splitlines()
    numbered = {squash(line) for line in lines}
    misnumbered = [
        f
        for f in toc_files()
        if f.startswith("notebooks/")
        # (the number and the title's first words: a long title may wrap)
        and not any(
            n.startswith(squash(str(int(Path(f).name[:2])) + title(f))[:24]) for n in numbered
        )
    ]
    assert not misnumbered, f"chapters not numbered as their file in the contents: {misnumbered}"


def test_no_unresolved_references():
    """LaTeX prints ?? for a reference, citation or equation it could not resolve."""
    bad = [
        f"page {n + 1}: ...{page[max(0, i - 60) : i + 20]!r}..."
        for n, page in enumerate(pages())
        for i in [m.start() for m in re.finditer(r"\?\?", page)]
    ]
    assert not bad, "unresolved references:\n" + "\n".join(bad[:20])


def test_page_count_sane():
    info = poppler("pdfinfo", str(PDF))
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    # 12 chapters and the reference pages: about 300 pages (December 2026). Far
    # fewer means chapters are missing; far more, something printed page by page.
    assert 150 <= count <= 900, f"{count} pages"


def test_every_figure():
    """Every image the notebooks show (stored image/png outputs and Markdown images)
    is in the PDF."""
    expected = 0
    for nb in notebooks():
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                expected += sum("image/png" in o.get("data", {}) for o in cell["outputs"])
            else:
                expected += len(re.findall(r"!\[[^\]]*\]\(", "".join(cell["source"])))
    listing = poppler("pdfimages", "-list", str(PDF)).splitlines()[2:]
    images = [line for line in listing if line.split()[2] == "image"]  # not soft masks
    assert expected > 20
    assert len(images) >= expected, f"{len(images)} images in the PDF, {expected} in the book"


def test_every_solution():
    """The hidden solutions (collapsed on the site) are printed: each code solution's
    first line, and the text of each prose solution."""
    code, prose = 0, []
    for nb in notebooks():
        for cell in nb["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and "# Solution to exercise" in src:
                code += 1
            elif cell["cell_type"] == "markdown" and '<details class="solution">' in src:
                inner = src.split("</summary>", 1)[1].split("</details>", 1)[0]
                # Its stretches of plain words (no math, code, link or emphasis),
                # 6 words of each: one of them must be in the PDF (math set apart
                # from the text line can come between the words of the others).
                pieces = re.split(r"\$[^$]*\$|`[^`]*`|\[|\]\([^)]*\)|[*_({]", inner)
                stretches = [" ".join(p.split()[:6]) for p in pieces if len(p.split()) >= 4]
                prose.append(stretches)
    assert code > 10 and len(prose) > 5
    assert text().count("# Solution to exercise") >= code
    body = squash(text())
    missing = [p for p in prose if not any(squash(x) in body for x in p)]
    assert not missing, f"prose solutions not in the PDF: {missing}"


def test_bibliography():
    """The References chapter lists every work of references.bib (by its title)."""
    bib = (ROOT / "book" / "references.bib").read_text()
    titles = re.findall(r"^\s*title\s*=\s*[{\"](.+?)[}\"]?,?\s*$", bib, re.M | re.I)
    assert len(titles) > 20
    refs = squash(text())
    missing = [t for t in titles if squash(re.sub(r"\\.", "", t))[:40] not in refs]
    assert not missing, f"works of references.bib not in the PDF: {missing}"


def test_code_within_the_page():
    """No word (code, output, formula) runs past the right edge of the page: long
    lines wrap (sphinxsetup in _config.yml) and wide equations shrink (sgdbook.sty)."""
    html = poppler("pdftotext", "-bbox", str(PDF), "-")
    out = []
    for n, page in enumerate(html.split("<page ")[1:]):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        for x_max, word in re.findall(
            r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)<', page
        ):
            # The text block ends an inch from the edge; allow half of that margin.
            if float(x_max) > width - 36:
                out.append(f"page {n + 1}: {word!r} ends at {float(x_max):.0f} of {width:.0f} pt")
    assert not out, "text past the margin:\n" + "\n".join(out[:30])

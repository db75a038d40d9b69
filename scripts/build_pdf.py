"""Build the whole book as one PDF: _build/pdf/book.pdf (`make pdf`).

Jupyter Book's LaTeX builder (`jupyter-book build . --builder pdflatex`) writes
LaTeX from the same pages as the site, with the outputs stored in the notebooks,
and typesets it with XeLaTeX through latexmk (_config.yml, section `latex:`);
TeX Live comes from Debian (scripts/ensure_tex.sh). The LaTeX build gets its own
folder, _build/latex-book, so that it never shares Sphinx's cache with a site
build running at the same time. tests/test_pdf.py checks the result.
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "_build" / "latex-book"
OUT = ROOT / "_build" / "pdf" / "book.pdf"


def main() -> int:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    start = time.monotonic()
    # A fresh LaTeX folder each time: latexmk would otherwise skip a run whose
    # .tex it thinks current, and stale .aux files can hide broken references.
    shutil.rmtree(WORK, ignore_errors=True)
    OUT.unlink(missing_ok=True)
    cmd = [str(jupyter_book), "build", str(ROOT), "--builder", "pdflatex"]
    cmd += ["--path-output", str(WORK), "--keep-going"]
    done = subprocess.run(cmd, cwd=ROOT)
    pdf = WORK / "_build" / "latex" / "book.pdf"
    # jupyter-book exits 0 even when `make all-pdf` failed; the PDF is the proof.
    if done.returncode != 0 or not pdf.is_file():
        log = pdf.with_suffix(".log")
        print(f"build_pdf: no PDF (jupyter-book exit {done.returncode}); see {log}")
        return 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(pdf, OUT)
    size, secs = OUT.stat().st_size / 1e6, time.monotonic() - start
    print(f"build_pdf: {OUT.relative_to(ROOT)} ({size:.1f} MB) in {secs:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

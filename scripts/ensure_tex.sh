#!/usr/bin/env bash
# `make pdf` typesets the book with XeLaTeX (Jupyter Book's LaTeX builder) and
# tests/test_pdf.py reads the PDF with poppler's pdftotext and pdfimages. Install
# Debian's packages for them where they are missing, on Debian or Ubuntu: the
# smallest set that builds the book (about 730 MB on disk; minutes to install,
# mostly TeX Live's own set-up after unpacking):
#   texlive-xetex              xelatex, fontspec, polyglossia (pulls texlive-latex-recommended)
#   texlive-latex-extra        the packages Sphinx's LaTeX and the jupyterBook class load
#                              (fncychap, titlesec, tabulary, varwidth, wrapfig, capt-of,
#                              needspace, framed, pgfplots, changepage, ...)
#   texlive-fonts-recommended  mathrsfs and the other math fonts
#   texlive-plain-generic      ulem, iftex and other generic macros
#   fonts-freefont-otf         FreeSerif, FreeSans, FreeMono: Sphinx's fonts for XeLaTeX
#   latexmk                    the driver Sphinx's LaTeX Makefile runs
#   poppler-utils              pdftotext, pdfimages, pdfinfo (the test)
# Not xindy (latex_use_xindy: false in _config.yml) nor texlive-fonts-extra (bbm:
# book/_latex/bbm.sty stands in).
set -euo pipefail
PACKAGES=(texlive-xetex texlive-latex-extra texlive-fonts-recommended texlive-plain-generic
          fonts-freefont-otf latexmk poppler-utils)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  if command -v xelatex >/dev/null && command -v latexmk >/dev/null && command -v pdftotext >/dev/null; then
    exit 0  # not Debian, but a TeX installation is there: try it
  fi
  echo "ensure_tex: ${missing[*]} not installed and apt-get is not available." >&2
  echo "Install TeX Live (xelatex, latexmk, FreeFont) and poppler-utils to build the PDF." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "ensure_tex: installing Debian's ${missing[*]} (for make pdf)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

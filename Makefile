# The SGD book: one command builds the site, one runs every test.
#   make site   set up, then build the website into _build/html
#   make test   set up, then run every test (nbval, site build, browser, hygiene, lint)
#   make test-portable  the notebooks again under simulated CPUs (CI runs it)
#   make lab    set up, then open the notebooks in JupyterLab
#   make pdf    the whole book as one PDF, _build/pdf/book.pdf (installs TeX Live)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SHELL  := /bin/bash

.PHONY: setup venv browser tex pdf test-pdf site-tools bench-site site test test-1thread test-portable gpu-check colab-check lab format clean

# `setup` is what the tests need; `venv` alone is what the site and the notebooks
# need (no Chromium, no root).
setup: venv browser site-tools
venv: $(STAMP)
browser:
	@bash scripts/ensure_chromium.sh

# axe-core (the browser test) and Lighthouse (bench-site), pinned in
# site-tools/package-lock.json; needs Node 18.20+ (Lighthouse 12) and npm.
site-tools: site-tools/node_modules/.installed
site-tools/node_modules/.installed: site-tools/package.json site-tools/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 (e.g. apt-get install nodejs npm)"; exit 1; }
	cd site-tools && npm ci --no-audit --no-fund
	@touch $@

# Lighthouse (mobile) on the landing page and the heaviest chapter, served with gzip;
# and the site's size. A benchmark, not a test: see scripts/bench_site.py.
bench-site: site site-tools
	$(BIN)/python scripts/bench_site.py

$(STAMP): requirements.txt constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@# Build matplotlib's font cache now: its one-time notice on stderr would
	@# otherwise appear in the first notebook nbval checks.
	$(BIN)/python -c "import matplotlib.pyplot"
	@touch $(STAMP)

site: venv
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Site built: open _build/html/index.html"

# The whole book as one PDF (Jupyter Book's LaTeX builder, XeLaTeX), with Debian's
# TeX Live (scripts/ensure_tex.sh; not part of `setup`: only the PDF needs it).
tex:
	@bash scripts/ensure_tex.sh
pdf: venv tex
	$(BIN)/python scripts/build_pdf.py

# Build the PDF, then check it (tests/test_pdf.py; a missing PDF fails). CI's own
# step: the LaTeX build is too slow for `make test`'s time goal.
test-pdf: pdf
	SGD_PDF_TEST=1 $(BIN)/python -m pytest -n 0 tests/test_pdf.py

test: setup
	$(BIN)/python -m pytest

# The notebooks' checked outputs are the same with one CPU thread as with two.
test-1thread: venv
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest notebooks

# Strict nbval on every notebook again under simulated CPUs (other kernel paths of
# PyTorch, MKL and oneDNN; one thread): the stored outputs must be what a reader on
# another machine sees. Configurations and why: scripts/test_portable.py.
test-portable: venv
	$(BIN)/python scripts/test_portable.py

# The GPU paths (mixed precision, CUDA timing, NCCL, every chapter on the device),
# with their assertions; writes gpu-report/report.json and report.md. On a machine
# without CUDA every GPU step is reported "skipped: no CUDA device".
gpu-check: venv
	$(BIN)/python scripts/gpu_check.py --out gpu-report

# Every notebook in a separate environment with only what Colab preinstalls
# (torch, numpy, matplotlib, scikit-learn), run from an empty folder. Not part of
# `make test`: it builds a second environment.
colab-check:
	$(PYTHON) scripts/colab_check.py .venv-colab

lab: venv
	$(BIN)/jupyter lab notebooks/

format: venv
	$(BIN)/ruff format tests scripts book/_ext book/snippets
	$(BIN)/ruff check --fix tests scripts book/_ext book/snippets
	$(BIN)/nbqa "ruff format" notebooks book/templates

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache .venv-colab

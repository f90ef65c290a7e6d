# Two commands do everything on a fresh machine with Python 3.11:
#   make book   -> set-up, then the strict HTML build into _build/html (every chapter executed) and,
#                  when Chromium is there, the book as one PDF (make pdf)
#   make test   -> set-up, then every check (lint + import layers, notebook hygiene, pytest + nbval,
#                  strict build of the nbval-checked outputs, the PDF, headless-Chromium check of the
#                  pages and the PDF)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
MATHJAX := book/_static/mathjax/tex-mml-chtml.js
NOTEBOOKS := $(wildcard book/*.ipynb)
JB_FLAGS := -W -n --keep-going

.PHONY: setup book book-committed pdf chromium test lint nbcheck pytest html-check bench execute clean

setup: $(STAMP) $(MATHJAX)

# (Re)create the venv when it is missing or older than the pins / the package metadata.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	$(BIN)/python -c "import matplotlib.pyplot"   # warm the font cache before nbval
	@touch $@

# MathJax 3.2.2 from the npm registry, served locally so the book reads offline.
$(MATHJAX):
	sh .ci/vendor_mathjax.sh

book: setup
	rm -rf _build  # a clean build: Sphinx would otherwise skip unchanged notebooks (stale outputs)
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@if command -v chromium >/dev/null 2>&1; then $(MAKE) --no-print-directory pdf; \
	  else echo "no chromium: the book's PDF (make pdf) was not made"; fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

nbcheck: setup
	$(BIN)/nbstripout --keep-output --keep-count --verify $(NOTEBOOKS)

# Unit, property, CLI and guard tests, plus nbval on every chapter (exit 5 = no tests = failure), on two
# workers; --dist loadscope keeps the cells of one notebook in order on one worker (nbval README).
pytest: setup
	$(BIN)/pytest -q -n 2 --dist loadscope --ignore=tests/test_html.py

# The test build renders the outputs nbval has just checked against the code (each chapter runs once
# per `make test`); `make book` executes every chapter, so a reader's build reproduces every figure.
TEST_CONFIG := _build/_config.committed.yml
book-committed: setup
	mkdir -p _build && rm -rf _build/html _build/.doctrees _build/jupyter_execute
	grep -q "execute_notebooks: force" _config.yml
	sed 's/execute_notebooks: force/execute_notebooks: "off"/' _config.yml > $(TEST_CONFIG)
	$(BIN)/jupyter-book build . $(JB_FLAGS) --config $(TEST_CONFIG)

# Headless Chromium for the HTML check: installed from Debian when missing and possible (root + apt).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the HTML check"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test needs Chromium for the HTML check: install Debian's package 'chromium' (apt-get install chromium)" >&2; \
	    exit 1; \
	  fi; }

# The book as one PDF, offline: the single-page build of the nbval-checked outputs, printed by
# headless Chromium with the print style of book/_static/reader.css (about 100 s, most of it
# MathJax typesetting the whole book in one page). Run after the HTML build, which it links from.
PDF := _build/html/exactinterp.pdf
pdf: setup chromium
	mkdir -p _build/html && rm -rf _build/singlehtml
	sed 's/execute_notebooks: force/execute_notebooks: "off"/' _config.yml > $(TEST_CONFIG)
	$(BIN)/jupyter-book build . $(JB_FLAGS) --builder singlehtml --config $(TEST_CONFIG)
	$(BIN)/python .ci/book_pdf.py _build/singlehtml $(PDF)

html-check: setup chromium
	REQUIRE_HTML_CHECK=1 $(BIN)/pytest -q -o addopts="-p no:cacheprovider" tests/test_html.py

test: chromium lint nbcheck pytest book-committed pdf html-check

# Re-execute notebooks in place (NB=book/x.ipynb for one), then normalise them for a stable diff.
execute: setup
	for nb in $(or $(NB),$(NOTEBOOKS)); do \
	  $(BIN)/jupyter execute --inplace --timeout=1200 $$nb && \
	  $(BIN)/nbstripout --keep-output --keep-count $$nb && \
	  $(BIN)/python .ci/normalise_notebooks.py $$nb || exit 1; \
	done

bench: setup
	$(BIN)/python -m exactinterp.bench

clean:
	rm -rf _build

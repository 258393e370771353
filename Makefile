# Two commands matter: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app booking
PORT ?= 5000

.PHONY: run test lint format translations i18n-extract clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

# Compiled catalogues are build output (.mo is not in git).
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d booking/translations

run: $(VENV)/.installed translations
	KOMBITERMIN_DEMO=1 $(FLASK) db upgrade
	KOMBITERMIN_DEMO=1 PORT=$(PORT) $(FLASK) seed-demo
	KOMBITERMIN_DEMO=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.dev-installed translations
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .

# After changing user-facing text: extract, merge, then translate in the .po file.
i18n-extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o booking/translations/messages.pot .
	$(BIN)/pybabel update --no-wrap --ignore-obsolete -i booking/translations/messages.pot -d booking/translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts

# Run `make help` to see what each target does.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app portal
PYBABEL := $(VENV)/bin/pybabel
NPM ?= npm
# The browser tests' axe-core, from package-lock.json into node_modules (never loaded from the network).
NODE_DEPS := node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: help install translations extract migrate seed run test test-sqlite test-postgres lint bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-15s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_DEPS): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.installed $(if $(shell command -v $(NPM)),$(NODE_DEPS)) ## Create the virtual environment and install the project (and axe-core when npm is there)

translations: install ## Build the .mo catalogs from the committed .po files
	$(PYBABEL) compile --use-fuzzy -q -d translations 2>/dev/null || $(PYBABEL) compile -d translations

extract: install ## Re-extract messages.pot and update the .po catalogs (then translate); unchanged catalogs keep their headers
	$(PY) scripts/keep_catalog_headers.py $(PYBABEL) \
	  -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o translations/messages.pot . \
	  -- -q update --no-fuzzy-matching --ignore-obsolete -i translations/messages.pot -d translations

migrate: install ## Create or upgrade the SQLite (or DATABASE_URL) database
	$(FLASK) migrate

seed: migrate ## Load the demo district and demo accounts when the database is empty
	$(FLASK) seed-demo --if-empty

run: translations seed ## Set everything up and serve the portal on http://127.0.0.1:5000 with demo data
	$(FLASK) run --host $(HOST) --port $(PORT)

test: translations lint $(NODE_DEPS) ## Set everything up, lint, and run the whole test suite (SQLite, then PostgreSQL if TEST_DATABASE_URL)
	bash scripts/ensure-chromium
	bash scripts/api-fuzz
	PORTAL_TEST_DB=sqlite $(PY) -m pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL: $$TEST_DATABASE_URL"; \
		PORTAL_TEST_DB="$$TEST_DATABASE_URL" $(PY) -m pytest -q -m "not e2e"; \
	fi

lint: install ## ruff (C90 at 12) and the import contract (views -> services -> models)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean: ## Remove the virtual environment and build leftovers (keeps instance/)
	rm -rf $(VENV) *.egg-info translations/*/LC_MESSAGES/*.mo node_modules

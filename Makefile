# The studio's two commands: `make demo` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STUDIO := $(VENV)/bin/studio

.PHONY: demo test test-fast lint test-postgres install down bench clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (set PYTHON=python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# `studio` lives in $(VENV)/bin, not on the user's PATH: the last lines say how to put it there.
demo: install
	$(STUDIO) up --detach
	$(STUDIO) run sample_projects/short-film --wait
	@echo
	@$(STUDIO) stack
	@echo
	@$(PY) -m studio.cli.next_steps $(VENV)

# The house rules that a machine can check: lint and format (ruff), the layers of DESIGN.md
# (import-linter, configured in pyproject.toml) and types (mypy).
lint: install
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q

# The inner loop: every test that needs no Temporal server, PostgreSQL or browser (the markers
# tests/conftest.py sets), spread over the cores, in under a minute. `make test` still runs them all.
test-fast: install
	$(PY) -m pytest -q -n auto -m "not temporal and not postgres and not browser"

# The same suite on a PostgreSQL catalog and an S3 asset store (a throwaway server and moto).
test-postgres: install
	bash .ci/postgres.sh

down:
	$(STUDIO) down

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache

# Every read a user waits on, on a 1k-take and a 100k-take catalog (SQLite, then a throwaway PostgreSQL).
.PHONY: bench-scale
bench-scale: install
	$(PY) bench/scale/reads.py --postgres

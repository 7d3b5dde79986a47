# The studio's two commands: `make demo` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STUDIO := $(VENV)/bin/studio

.PHONY: demo test test-postgres install down bench clean

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

test: install
	$(PY) -m pytest -q

# The same suite on a PostgreSQL catalog and an S3 asset store (a throwaway server and moto).
test-postgres: install
	bash .ci/postgres.sh

down:
	$(STUDIO) down

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache

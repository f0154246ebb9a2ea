# Two commands on a fresh machine: `make run` (the main job) and `make test` (the same, then
# the whole test suite). The virtual environment is created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test quick lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "borderflow needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/borderflow run

# The tests also run against a throwaway PostgreSQL server (installed from Debian's packages
# when missing and run as root); the script prints its URL, or nothing when it cannot start one.
# The dashboard's browser tests drive Debian's chromium (installed the same way, never by
# `playwright install`); the script prints its path, or nothing, and then they are skipped.
test: run
	$(BIN)/ruff check src tests benchmarks
	BORDERFLOW_TEST_PG="$$(scripts/postgres-for-tests.sh start)" \
	BORDERFLOW_TEST_CHROMIUM="$$(scripts/chromium-for-tests.sh)" $(BIN)/python -m pytest -q; \
	status=$$?; scripts/postgres-for-tests.sh stop; exit $$status

# The developer's loop: every test not marked slow (no whole-scenario runs, ensembles,
# calibration, web server, schema fuzzing or browser); `make test` still runs them all.
quick: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache

# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: run test test-postgres bench install system-deps clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## make run: install, migrate the SQLite database in instance/, load seed and demo data, serve on $(HOST):$(PORT)
## (the first run also generates a living demo registry of 2,000 fictional persons; later runs leave it be)
run: install
	$(BIN)/registry init-db
	$(BIN)/registry seed --demo
	$(BIN)/registry demo --persons 2000 --seed 1 --unless-present
	$(BIN)/registry serve --host $(HOST) --port $(PORT)

## make test: the whole suite (on PostgreSQL too when REGISTRY_TEST_DATABASE_URL is set)
test: install system-deps
	$(BIN)/pytest

## make test-postgres: the whole suite against a throw-away local PostgreSQL cluster
test-postgres: install system-deps
	scripts/with-postgres $(MAKE) test

## make bench: benchmarks, each beside its raw baseline (not part of the test suite)
bench: install system-deps
	$(BIN)/python -m benchmarks

# Debian packages the tests drive (Chromium, poppler, zbar, a CJK font); installed only when missing.
system-deps:
	@scripts/system-deps

clean:
	rm -rf $(VENV) *.egg-info

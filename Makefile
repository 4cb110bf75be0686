# Caravan: `make run` serves the demo store, `make test` runs the suite.
# Needs only Python 3.11+ with pip: uv is installed into .tools/ on first use.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/caravan_test
HOST ?= 127.0.0.1
PORT ?= 8000

# Lint and type-check what exists (a fresh clone may have no plugin or bench yet).
LINT_PATHS := core tests $(wildcard plugins bench)
TYPED_PATHS := core $(if $(wildcard plugins/*/pyproject.toml),plugins)

.PHONY: run test test-sqlite test-postgres lint typecheck check env migrate demo bench bench-checkout clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock $(wildcard plugins/*/pyproject.toml)
	$(UV) sync --frozen --all-packages --quiet
	@touch $@

env: $(VENV)/.synced

migrate: env
	$(BIN)/caravan migrate

# `caravan demo` migrates the database itself before seeding.
demo: env
	$(BIN)/caravan demo --api http://$(HOST):$(PORT)

run: demo
	$(BIN)/caravan serve --host $(HOST) --port $(PORT)

test: env test-sqlite test-postgres

test-sqlite: env
	@echo "== test suite on SQLite"
	env -u CARAVAN_TEST_DATABASE_URL $(BIN)/pytest

test-postgres: env
	@url="$${CARAVAN_TEST_DATABASE_URL:-}"; \
	if [ -z "$$url" ] && $(BIN)/python -m core.db.probe "$(PG_TEST_URL)"; then url="$(PG_TEST_URL)"; fi; \
	if [ -n "$$url" ]; then \
		echo "== test suite on PostgreSQL"; \
		CARAVAN_TEST_DATABASE_URL="$$url" $(BIN)/pytest; \
	else \
		echo "== PostgreSQL not reachable: suite ran on SQLite only"; \
	fi

lint: env
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: env
	$(BIN)/mypy --strict $(TYPED_PATHS)

check: lint typecheck test

bench: env
	$(BIN)/python bench/catalog.py

# Checkout throughput (SQLite, then PostgreSQL when reachable); BENCH_ARGS=--quick for a short run.
bench-checkout: env
	$(BIN)/python bench/checkout.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) caravan.db caravan.db-wal caravan.db-shm caravan-demo.json

# Two commands from a fresh clone: `make demo` and `make test`.
PYTHON ?= python3.11
PYTHON312 ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export TRADING_ASSETS_STORE ?= $(CURDIR)/.data/trading_assets.duckdb
# one planned event per range run and batched materializations (see README, Configuration)
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS := true
export DAGSTER_EVENT_BATCH_SIZE := 1000
# Debian's chromium, driven headless by the browser test (Playwright never downloads one)
CHROMIUM ?= /usr/bin/chromium

# the store-level modules, run a second time against PostgreSQL (the local server)
STORE_TESTS := $(addprefix trading_assets_tests/,test_store.py test_store_corporate_actions.py \
	test_jobs_store.py test_contract.py test_documents.py test_notebook.py test_never_poison.py)

.PHONY: demo test test-fast test-py312 lint ui bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,notebook]'
	touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	ln -sf ../dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## demo: set up, backfill the bundled demo models through Dagster, print the leaderboard
demo: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/trading-assets backfill --config demo

$(CHROMIUM):
	@[ "$$(id -u)" = 0 ] || { echo "$(CHROMIUM) is missing: run 'sudo apt-get install -y chromium' (or set CHROMIUM=/path/to/chromium)"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

## test: set up and run the whole suite (slow end-to-end and browser tests included), then lint;
## then the store-level tests again on a PostgreSQL store
test: $(STAMP) $(CHROMIUM)
	$(BIN)/ruff check trading_assets trading_assets_tests bench
	$(BIN)/ruff format --check trading_assets trading_assets_tests bench
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs
	CHROMIUM=$(CHROMIUM) $(BIN)/pytest
	$(BIN)/pytest --store-backend=postgres $(STORE_TESTS)

## test-fast: the suite without the slow end-to-end tests
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

## test-py312: the fast suite under Python 3.12 too, in a second venv (.venv312)
test-py312: .venv312/.installed
	.venv312/bin/pytest -m "not slow"

.venv312/.installed: pyproject.toml constraints.txt
	$(PYTHON312) -m venv .venv312
	.venv312/bin/pip install --quiet --upgrade pip
	.venv312/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	touch .venv312/.installed

## ui: the Dagster UI and daemon on the same instance and store
ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	# create the instance storages before the webserver, daemon and code server race to
	$(BIN)/dagster instance migrate
	$(BIN)/dagster dev -w workspace.yaml

## bench: engine, kernel and LLM-cache figures, full-history backfills through Dagster, event writes
bench: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_kernel.py
	$(BIN)/python bench/bench_llm_cache.py
	$(BIN)/python bench/bench_store_opens.py
	$(BIN)/python bench/bench_backfill.py
	$(BIN)/python bench/bench_sweep.py
	$(BIN)/python bench/bench_event_log.py

clean:
	rm -rf $(VENV) .venv312 .data .dagster_home/storage .dagster_home/history .dagster_home/schedules

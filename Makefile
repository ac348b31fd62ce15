# `make run` and `make test` are the two commands of the README: each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint pytest bench bench-delivery bench-live bench-soak clean

# Chromium: Debian's package for the live URL browser test (never `playwright install`);
# curl and jq: the README's examples, which tests/e2e/test_readme.py runs.
$(STAMP): pyproject.toml sdk/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./sdk/python
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) \
		|| echo 'chromium is missing: apt-get install chromium (tests/e2e/test_live_browser.py)'; }
	command -v jq >/dev/null && command -v curl >/dev/null || { [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null && (apt-get update -q \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -q curl jq) \
		|| echo 'curl or jq is missing: apt-get install curl jq (tests/e2e/test_readme.py)'; }
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/banatie serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench sdk/python
	$(BIN)/ruff format --check src tests bench sdk/python
	$(BIN)/mypy

# Test files run on 3 workers (pytest-xdist): most of the suite waits on servers and the
# database, so 3 workers beat 1 even on 2 cores. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 3
pytest: install
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test: lint pytest

# Every target of docs/performance.md against its peer, in one run (< 10 min; BENCH_ARGS=--quick).
bench: install
	$(BIN)/python -m bench.targets $(BENCH_ARGS)

bench-delivery: install
	$(BIN)/python -m bench.delivery

bench-live: install
	$(BIN)/python -m bench.live

# Mixed traffic across two replicas on PostgreSQL, Redis and S3 (moto) for 10 minutes
# (SOAK_ARGS=--minutes 2 for a short one): errors, p99 per kind, RSS drift per process.
bench-soak: install
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

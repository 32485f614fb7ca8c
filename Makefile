# Everything the project needs is installed by these targets into .venv; nothing by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
PEER := bench/peer
PORT ?= 8000
# The benchmark runs this checkout's code, whatever editable install the virtualenv holds.
BENCH_ENV := PYTHONPATH=$(CURDIR)/src:$(CURDIR)

.PHONY: run mocks test e2e browser screenshots lint typecheck schema token venv clean redis-server \
	bench bench-check bench-soak bench-deps bench-at profile

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# The graphql-http server audit (npm, pinned by package-lock.json) that the test suite runs.
AUDIT := tests/http_audit/node_modules/.installed
$(AUDIT): tests/http_audit/package.json tests/http_audit/package-lock.json
	cd tests/http_audit && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

venv: $(STAMP)

## run: mocks + gateway in development mode (GraphiQL at http://127.0.0.1:$(PORT)/graphql)
run: $(STAMP)
	PORT=$(PORT) $(BIN)/python -m gateway.dev

## mocks: the three mock upstreams only
mocks: $(STAMP)
	$(BIN)/python -m mocks

# Debian's redis-server, for the shared-store tests (they start their own server on 127.0.0.1).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
redis-server:
	@command -v redis-server >/dev/null || ($(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null)


## browser: Debian's Chromium for the end-to-end tests, installed only when missing (never a downloaded browser)
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y --no-install-recommends chromium; \
	} || { echo "make browser: could not install Debian's chromium; the end-to-end tests need /usr/bin/chromium" >&2; exit 1; }


## test: the whole suite, browser tests included
test: $(STAMP) $(AUDIT) redis-server browser
	$(BIN)/python -m pytest

## e2e: only the reference page's browser tests (tests/e2e)
e2e: $(STAMP) browser
	$(BIN)/python -m pytest tests/e2e

## screenshots: rerun the browser tests, saving their screenshots into docs/screenshots (for the README)
screenshots: $(STAMP) browser
	E2E_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/e2e/test_order_page.py

lint: $(STAMP)
	$(BIN)/ruff check src mocks tests bench
	$(BIN)/mypy

## schema: regenerate schema.graphql from the code
schema: $(STAMP)
	$(BIN)/python -m gateway.cli schema > schema.graphql

## token: mint a development token (ROLE=buyer|seller SUBJECT=buyer-us-alice, and SHOP=<shop id> for a seller)
# Development mode, like `make run`'s gateway, so it works from a fresh clone: the token is signed with
# the development secret (or JWT_SECRET when one is set) and only a development gateway accepts it.
token: $(STAMP)
	@GATEWAY_MODE=development $(BIN)/python -m gateway.cli token --role $${ROLE:-buyer} \
		--subject $${SUBJECT:-buyer-us-alice} $${SHOP:+--shop "$$SHOP"}

# -- benchmark -------------------------------------------------------------------------------------

$(BENCH_STAMP): $(STAMP) pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@touch $@

$(PEER)/node_modules/.package-lock.json: $(PEER)/package.json $(PEER)/package-lock.json
	cd $(PEER) && npm ci --no-audit --no-fund --loglevel=error

## bench-deps: wrk (Debian, only if missing), the bench extra (matplotlib, py-spy), the peer's npm packages
bench-deps: $(BENCH_STAMP) $(PEER)/node_modules/.package-lock.json
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@command -v taskset >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq util-linux; }
	@command -v node >/dev/null || { echo "node (>= 20) is needed for the peer"; exit 1; }

## bench: check every system answers alike, measure, report (bench/results/latest.md, latest.png)
bench: bench-deps
	$(BENCH_ENV) $(BIN)/python -m bench.run

## bench-check: only the answer check (floor and peer equal the gateway on every workload request)
bench-check: bench-deps
	$(BENCH_ENV) $(BIN)/python -m bench.run --check

## bench-soak: the memory soak, 5 minutes of mixed load on the single-worker gateway (bench/results/soak.md)
bench-soak: bench-deps
	$(BENCH_ENV) $(BIN)/python -m bench.run --soak

## bench-at: the single-worker gateway at past commits, with today's harness (COMMITS="978c820 HEAD")
bench-at: bench-deps
	bench/at_commit.sh $(COMMITS)

## profile: py-spy on the single-worker gateway under load (BENCH_PROFILE_WORKLOAD=order-page|history|mixed) -> bench/results/profile.svg
profile: bench-deps
	$(BENCH_ENV) $(BIN)/python -m bench.profile

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(PEER)/node_modules

# Everything the project needs is installed by these targets into .venv; nothing by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run mocks test e2e browser screenshots lint typecheck schema token venv clean redis-server

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
	$(BIN)/ruff check src mocks tests
	$(BIN)/mypy

## schema: regenerate schema.graphql from the code
schema: $(STAMP)
	$(BIN)/python -m gateway.cli schema > schema.graphql

## token: mint a development token (ROLE=buyer|seller SUBJECT=buyer-us-alice)
token: $(STAMP)
	$(BIN)/python -m gateway.cli token --role $${ROLE:-buyer} --subject $${SUBJECT:-buyer-us-alice}

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

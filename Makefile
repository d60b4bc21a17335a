# Every target installs what it needs into project-local folders (.venv, target/).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
DEVSTACK := target/debug/devstack
DEMO_EVENTS := $(sort $(wildcard events/rental-return/event_0*.json)) $(sort $(wildcard events/demo/*.json))
FUNCTIONS := api-handler rental-return notifier queue-processor outbox-relay

.PHONY: help venv build up down seed reset demo report test lint unit-and-integration zips clean

help:
	@echo "make demo   run the whole system locally on the emulator and show what happened"
	@echo "make test   fmt check, clippy -D warnings, unit and integration tests (starts moto itself)"
	@echo "make up | down | seed | reset | report   manage the local stack"
	@echo "make zips   release zips of every function (arm64, cargo lambda)"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

build:
	cargo build --workspace --bins --quiet

up: venv
	scripts/stack.sh up

down:
	scripts/stack.sh down

seed: build
	$(DEVSTACK) seed

reset: build
	$(DEVSTACK) reset

report: build
	$(DEVSTACK) report

demo: venv
	scripts/stack.sh up
	trap 'scripts/stack.sh down' EXIT; \
	$(DEVSTACK) seed; \
	$(DEVSTACK) replay $(DEMO_EVENTS); \
	$(DEVSTACK) report

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

test: venv lint
	scripts/test.sh

zips: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo-lambda lambda build --release --arm64 --output-format zip \
		$(addprefix --bin ,$(FUNCTIONS))
	@ls -l target/lambda/*/bootstrap.zip

clean:
	scripts/stack.sh down || true
	rm -rf target $(VENV) .devstack

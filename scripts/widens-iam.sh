#!/usr/bin/env bash
# scripts/widens-iam.sh ENV: whether deploying infrastructure/cdk.out/assembly-ENV widens IAM
# statements or security groups against what is deployed (exit 0: it does; 1: it does not).
# Any other failure of cdk diff (credentials, a missing assembly) exits 2 with its output.
set -uo pipefail
env=${1:?usage: scripts/widens-iam.sh ENV}
cd "$(dirname "$0")/../infrastructure"
out=$(npx cdk diff --all --app "cdk.out/assembly-$env" --security-only --fail 2>&1)
status=$?
echo "$out"
if [[ $status -eq 0 ]]; then
  exit 1
fi
# --fail exits 1 on a security change and on an error alike; a change prints its table.
if grep -qE 'IAM Statement Changes|IAM Policy Changes|Security Group Changes' <<<"$out"; then
  exit 0
fi
echo "widens-iam: cdk diff failed (exit $status) without a security change to show" >&2
exit 2

#!/usr/bin/env bash
# `make load-router` measures the router with wrk (a C load generator light enough to leave
# the router most of a 2-core machine). Checks for it and, where missing on a Debian machine we
# may administer, installs Debian's package.
set -euo pipefail
command -v wrk >/dev/null 2>&1 && exit 0
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "wrk not found; installing Debian's wrk for make load-router" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
  command -v wrk >/dev/null 2>&1 && exit 0
fi
echo "make load-router needs wrk; install it, e.g. on Debian/Ubuntu: sudo apt-get install wrk" >&2
exit 1

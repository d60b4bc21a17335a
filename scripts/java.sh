#!/usr/bin/env bash
# DynamoDB Local needs Java 17 or later. Checks for it and, where it is missing on a Debian
# machine we may administer, installs Debian's openjdk-17-jre-headless.
set -euo pipefail

java_major() {
  local java=${JAVA_HOME:+$JAVA_HOME/bin/}java
  command -v "$java" >/dev/null 2>&1 || { echo 0; return; }
  # `java -version` prints e.g. `openjdk version "17.0.15" 2025-04-15` (or "1.8.0_392").
  "$java" -version 2>&1 | sed -nE '1s/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/p' \
    | awk '{ print ($1 == 1 ? $2 : $1) }'
}

major=$(java_major)
if (( ${major:-0} >= 17 )); then exit 0; fi

if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "Java 17+ not found (found: ${major:-none}); installing openjdk-17-jre-headless for DynamoDB Local" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }
  major=$(java_major)
  if (( ${major:-0} >= 17 )); then exit 0; fi
fi

cat >&2 <<MSG
DynamoDB Local needs Java 17 or later, and none was found (java on PATH or \$JAVA_HOME: ${major:-none}).
Install it, e.g. on Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless
MSG
exit 1

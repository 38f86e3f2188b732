#!/bin/sh
# CTest's entry for burrow-testing: node's test runner over test/, once `npm ci` has put
# amqplib in node_modules (scripts/install-deps.sh does).
set -eu
cd "$(dirname "$0")"
if [ ! -f node_modules/amqplib/package.json ]; then
  echo "testing/node/node_modules is missing: run scripts/install-deps.sh, or npm ci in testing/node" >&2
  exit 1
fi
# --test-timeout (node >= 20.11) bounds a test that waits for an event that never comes; on
# an older node (Debian 12 has 18) CTest's TIMEOUT is the bound. Files are named, not the
# folder, since node 21 reads arguments as globs.
timeout=""
if node --help | grep -q -- --test-timeout; then timeout="--test-timeout=20000"; fi
exec node --test $timeout test/*.test.js

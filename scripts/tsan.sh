#!/usr/bin/env bash
# ThreadSanitizer: builds the tsan preset's unit tests (base, storage, broker, server, client,
# the AMQP client) and burrowd, runs each test binary, then the pika integration tests against
# the TSan burrowd (the server's sessions, strands and broker threads under real clients). Any
# data race, lock-order inversion or thread leak fails the run.
#   scripts/tsan.sh [GTEST_FILTER]
# Reports go to build/tsan/tsan.<test>.log. tests/tsan.supp lists the suppressions (each with
# its reason); there must be none for Burrow's own code.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "${JOBS:-2}"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp"
status=0
for t in base_test storage_test broker_test server_test client_test amqp_client_test; do
  echo "== $t"
  if ! build/tsan/bin/$t --gtest_brief=1 ${1:+--gtest_filter="$1"} > "build/tsan/tsan.$t.log" 2>&1; then
    status=1
    echo "$t FAILED: see build/tsan/tsan.$t.log"
    grep -m5 -A30 "WARNING: ThreadSanitizer" "build/tsan/tsan.$t.log" || tail -30 "build/tsan/tsan.$t.log"
  fi
  grep -E "^\[  PASSED  \]|^\[  FAILED  \]|tests? ran" "build/tsan/tsan.$t.log" | tail -3 || true
done
echo "== integration (pika, raw sockets) against build/tsan/bin/burrowd"
# The harness fails a test whose burrowd printed a ThreadSanitizer report (halt_on_error also
# stops that burrowd).
if ! (cd tests/integration && BURROWD="$PWD/../../build/tsan/bin/burrowd" AMQP_URL_UNDER_TEST= \
      /usr/bin/python3 -m unittest test_pika_basic test_pika_ack test_pika_confirms \
      test_pika_prefetch test_pika_channels test_hostile_peers > ../../build/tsan/tsan.integration.log 2>&1); then
  status=1
  echo "integration FAILED: see build/tsan/tsan.integration.log"
  grep -m3 -A30 "ThreadSanitizer" build/tsan/tsan.integration.log || tail -30 build/tsan/tsan.integration.log
fi
tail -3 build/tsan/tsan.integration.log
exit $status

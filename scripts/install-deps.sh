#!/usr/bin/env bash
# Installs the Debian 12 packages Burrow needs to build and test, and only those missing.
# Idempotent and silent when everything is present; used by `make build|run|test` and CI.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config python3
  # clang and its libFuzzer runtime: the fuzz targets (fuzz/, the fuzz preset)
  clang libclang-rt-14-dev
  # libraries (DESIGN.md: the chosen components)
  libboost-dev libboost-program-options-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # the AMQP 0-9-1 spec the codec is generated from
  amqp-specs
  # real clients the integration tests drive
  python3-pika amqp-tools
  # rabbitmq-c: the C++ test harness (testing/cpp) is tested with it
  librabbitmq-dev
  # pytest: testing/python's plugin (pytest_burrow) and its tests
  python3-pytest
  # the openssl CLI: the TLS integration tests make a throwaway CA with it
  openssl
  # headless browser: test_dashboard.py renders burrowd's dashboard page in it
  chromium
  # the Go harness (testing/go) and its tests' client, used in GOPATH mode: no module download
  golang-go golang-github-rabbitmq-amqp091-go-dev
)
# The Node harness (testing/node) needs node and npm; Debian's only where none is on PATH
# (a machine may have its own node, whose npm Debian's would conflict with).
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# rabbitmqadmin (RabbitMQ's management CLI, a Python script) for the management API's
# integration tests. It ships inside Debian's rabbitmq-server package; extract just that
# file instead of installing RabbitMQ and Erlang.
admin="$HOME/.cache/burrow/rabbitmqadmin"
if [ ! -e "$admin" ] && [ ! -e /usr/bin/rabbitmqadmin ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download rabbitmq-server >/dev/null 2>&1 ||
     { $sudo apt-get update -qq && apt-get download rabbitmq-server >/dev/null; })
  dpkg-deb -x "$tmp"/rabbitmq-server_*.deb "$tmp/x"
  mkdir -p "$(dirname "$admin")"
  cp "$tmp/x/usr/lib/rabbitmq/lib/rabbitmq_server-"*/plugins/rabbitmq_management-*/priv/www/cli/rabbitmqadmin "$admin" 2>/dev/null ||
    cp "$(find "$tmp/x" -name rabbitmqadmin -type f | head -1)" "$admin"
  chmod +x "$admin"
  rm -rf "$tmp"
fi

# amqplib for the Node harness's tests, as pinned by testing/node/package-lock.json: again
# whenever the lock is newer than the last install (npm ci writes node_modules/.package-lock.json).
node_dir="$(dirname "$0")/../testing/node"
installed="$node_dir/node_modules/.package-lock.json"
if [ ! -e "$installed" ] || [ "$installed" -ot "$node_dir/package-lock.json" ]; then
  echo "install-deps: npm ci in testing/node"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

#!/usr/bin/env bash
# Installs the Debian 12 packages Burrow needs to build and test, and only those missing.
# Idempotent and silent when everything is present; used by `make build|run|test` and CI.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config python3
  # libraries (DESIGN.md: the chosen components)
  libboost-dev libboost-program-options-dev librocksdb-dev libprotobuf-dev protobuf-compiler
  libspdlog-dev libfmt-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # the AMQP 0-9-1 spec the codec is generated from
  amqp-specs
  # real clients the integration tests drive
  python3-pika amqp-tools
  # the openssl CLI: the TLS integration tests make a throwaway CA with it
  openssl
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Burrow's front door. `make run` and `make test` work on a fresh Debian 12 machine:
# they install missing packages (scripts/install-deps.sh), configure with CMakePresets.json,
# build and then run the broker or the whole test suite.
.PHONY: all deps build run test asan bench fuzz tsan format clean

JOBS ?= 2

all: build

deps:
	@./scripts/install-deps.sh

# Release build; executables land in build/release/bin/.
build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# Starts burrowd on 127.0.0.1:5672 with its data in ./data.
run: build
	./build/release/bin/burrowd --bind 127.0.0.1 --port 5672 --data-dir ./data

# ASan+UBSan build, then every test: unit, integration with real clients, layering checks,
# the fuzz corpora replayed; then a 30 s libFuzzer smoke run of each fuzz target (clang).
test: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	@ctest --preset asan
	@./fuzz/run.sh smoke 30

# Long fuzzing runs: `make fuzz RUNS=10000000` (docs/reliability.md).
RUNS ?= 1000000
fuzz: deps
	@./fuzz/run.sh runs $(RUNS)

# ThreadSanitizer build of the unit tests (base, storage, broker, server, both clients) and
# burrowd; runs them, then the pika integration tests against the TSan burrowd
# (docs/reliability.md 4b). Not part of `make test`: it is a second full build.
tsan: deps
	@./scripts/tsan.sh

bench: build
	./build/release/bin/burrow_bench

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf build

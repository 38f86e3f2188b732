#!/usr/bin/env bash
# Proves the checked-in generated files are what protocol/codegen/generate.py makes from the spec
# today: regenerates them into a temporary directory and diffs. Also checks that clang-format
# (when installed) leaves them unchanged. Run from the repository root; $1: the python3 to use.
set -u
python=${1:-python3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$python" protocol/codegen/generate.py --out-dir "$out" || exit 1
status=0
for pair in methods.h:protocol/methods.h methods.cc:protocol/methods.cc \
            method_samples.h:tests/protocol/method_samples.h; do
  generated="$out/${pair%%:*}"
  checked_in="${pair#*:}"
  if ! diff -u "$checked_in" "$generated"; then
    echo "codegen_test: $checked_in is stale; run: python3 protocol/codegen/generate.py"
    status=1
  fi
  if command -v clang-format >/dev/null 2>&1 &&
     ! clang-format --style=file --assume-filename="$checked_in" < "$generated" |
       diff -u "$generated" - >/dev/null; then
    echo "codegen_test: clang-format would change the generated $checked_in"
    status=1
  fi
done
[ $status -eq 0 ] && echo "codegen_test: generated files are current"
exit $status

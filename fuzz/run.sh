#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang, ASan + UBSan) and runs them.
#
#   fuzz/run.sh smoke [SECONDS]    each target for SECONDS (default 30); CI runs this
#   fuzz/run.sh runs N [TARGET...] each target (or the ones named) for N executions
#   fuzz/run.sh time S [TARGET...] each target for S seconds
#
# A target fuzzes a scratch copy of fuzz/corpus/<target>/ (the checked-in seeds are not
# touched); new inputs it finds stay in build/fuzz/work/<target>/. Crashes are written as
# build/fuzz/artifacts/<target>-crash-* and make this script exit non-zero: copy the input into
# fuzz/corpus/<target>/ once fixed, and the corpus replay (CTest fuzz.<target>.corpus) keeps
# it fixed. The last line of each run is libFuzzer's "Done N runs in S second(s)".
set -euo pipefail
cd "$(dirname "$0")/.."
targets_all=(frame method field_table content_header connection)
mode="${1:-smoke}"
shift || true
case "$mode" in
  smoke) limit=(-max_total_time="${1:-30}"); shift || true ;;
  runs) limit=(-runs="$1"); shift ;;
  time) limit=(-max_total_time="$1"); shift ;;
  *) echo "usage: fuzz/run.sh smoke [SECONDS] | runs N [TARGET...] | time S [TARGET...]" >&2; exit 2 ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${targets_all[@]}")

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "${JOBS:-2}" --target "${targets[@]/#/fuzz_}"

mkdir -p build/fuzz/artifacts
status=0
for t in "${targets[@]}"; do
  work="build/fuzz/work/$t"
  mkdir -p "$work"
  cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  echo "== fuzz_$t ${limit[*]}"
  # fuzz_connection runs without libFuzzer's per-input leak check (its broker allocates on
  # worker threads between inputs, and the check halves its speed); its corpus replay in the
  # test build runs under LeakSanitizer.
  extra=()
  [ "$t" != connection ] || extra=(-detect_leaks=0)
  if ! build/fuzz/bin/fuzz_"$t" "${limit[@]}" "${extra[@]}" -print_final_stats=1 \
      -artifact_prefix="build/fuzz/artifacts/$t-" "$work" 2> "build/fuzz/$t.log"; then
    status=1
    echo "fuzz_$t FAILED: see build/fuzz/$t.log and build/fuzz/artifacts/"
    tail -40 "build/fuzz/$t.log"
  fi
  grep -E "^Done|number_of_executed_units|peak_rss" "build/fuzz/$t.log" || true
done
exit $status

#!/bin/bash
# A backlog larger than the memory budget: N persistent messages into one durable queue
# (burrow-perf --backlog: publish all, then drain), burrowd's RSS sampled every second.
# Prints the peak RSS (VmHWM); burrow-perf's JSON line (lost/duplicated must be 0) goes to
# $OUT/run.json, samples to $OUT/samples.txt.
#
#   N=10000000 SIZE=256 BUDGET_MB=128 bench/backlog_rss.sh
set -u
N=${N:-10000000}
SIZE=${SIZE:-256}
BUDGET_MB=${BUDGET_MB:-128}
PORT=${PORT:-5695}
BIN=${BIN:-build/release/bin}
OUT=${OUT:-/tmp/burrow-backlog}
mkdir -p "$OUT"
rm -rf "$OUT/data"
"$BIN/burrowd" --port "$PORT" --http-port -1 --data-dir "$OUT/data" --durability os \
  --memory-budget-mb "$BUDGET_MB" --log-level warn >"$OUT/burrowd.out" 2>&1 &
PID=$!
sleep 1
(while kill -0 $PID 2>/dev/null; do
  echo "$(date +%s) $(grep VmRSS /proc/$PID/status | tr -s ' ')"
  sleep 1
done) >"$OUT/samples.txt" &
"$BIN/burrow-perf" -h "amqp://guest:guest@127.0.0.1:$PORT/%2F" -x 1 -y 1 -s "$SIZE" \
  -f persistent -c 1000 -q 1000 -A 500 -C "$N" -u backlog --durable --backlog -i 5 \
  >"$OUT/run.json" 2>"$OUT/run.err"
grep VmHWM /proc/$PID/status
du -sh "$OUT/data"
kill $PID
wait $PID
cat "$OUT/run.json"

#!/usr/bin/env bash
# Burrow beside RabbitMQ 3.10 (Debian's rabbitmq-server), the same scenario matrix with
# burrow-perf against each in alternation (Burrow, RabbitMQ, Burrow, ... per scenario and
# round), then a markdown table of both medians and their ratio, the raw JSON lines and PNG
# plots (issue 8). Both brokers run on their own ports and data directories, and are stopped
# when the script ends, fails or is interrupted.
#
#   bench/compare.sh                   # 3 rounds x 10 s, 1M backlog, plots into docs/img
#   bench/compare.sh --quick           # smoke test: 1 round x 3 s, small backlog and fanout
#   bench/compare.sh --rounds 5 --duration 20 --only t16,persist --out /tmp/cmp
#
# Options:
#   --rounds N        rounds per scenario (default 3)
#   --duration S      seconds of producing per timed scenario (default 10)
#   --backlog N       messages in the backlog scenario (default 1000000)
#   --fanout-count N  messages published in the 100-queue fanout scenario (default 10000:
#                     1M deliveries); counted, not timed, so the drain stays bounded
#   --only LIST       comma-separated scenario ids (t16,t1k,persist,confirm1,backlog,q4,
#                     fanout100,startup)
#   --out DIR         results directory (default /tmp/burrow-compare-<UTC time>)
#   --img-dir DIR     where the PNGs go (default docs/img; with --quick: OUT/img)
#   --bin DIR         burrowd and burrow-perf (default build/release/bin)
#   --quick           1 round, 3 s, backlog 20000, fanout 1000
#   --no-plots        skip gnuplot
# Ports come from the environment: BURROW_PORT (5690), RABBIT_PORT (5673), RABBIT_DIST_PORT
# (25673), RABBIT_EPMD_PORT (24369). A full run should take about 15-20 minutes (an estimate
# from the quick runs; not yet timed).
#
# Every burrow-perf run must end with lost=0 and duplicated=0 and exit 0; otherwise the run is
# flagged in the table (and left out of the medians) and the script exits 1.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/release/bin
ROUNDS=3
DURATION=10
BACKLOG=1000000
FANOUT_COUNT=10000
ONLY=""
OUT=""
IMG=""
QUICK=0
PLOTS=1
BURROW_PORT=${BURROW_PORT:-5690}
RABBIT_PORT=${RABBIT_PORT:-5673}
RABBIT_DIST_PORT=${RABBIT_DIST_PORT:-25673}
RABBIT_EPMD_PORT=${RABBIT_EPMD_PORT:-24369}  # our own epmd, so stopping it hurts nobody
RABBIT_NODE=cmp@localhost

usage() { sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --backlog) BACKLOG=$2; shift ;;
    --fanout-count) FANOUT_COUNT=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --out) OUT=$2; shift ;;
    --img-dir) IMG=$2; shift ;;
    --bin) BIN=$2; shift ;;
    --quick) QUICK=1 ;;
    --no-plots) PLOTS=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if [ $QUICK -eq 1 ]; then
  ROUNDS=1; DURATION=3; BACKLOG=20000; FANOUT_COUNT=1000
fi
OUT=${OUT:-/tmp/burrow-compare-$(date -u +%Y%m%dT%H%M%S)}
if [ -z "$IMG" ]; then
  if [ $QUICK -eq 1 ]; then IMG=$OUT/img; else IMG=$ROOT/docs/img; fi
fi
for tool in "$BIN/burrowd" "$BIN/burrow-perf" /usr/sbin/rabbitmq-server /usr/bin/python3; do
  [ -x "$tool" ] || { echo "compare.sh: $tool is missing (build: cmake --build --preset release)" >&2; exit 2; }
done
mkdir -p "$OUT/raw" "$IMG"
: >"$OUT/results.jsonl"

# Broker data lives in WORK (removed at the end); RabbitMQ runs as user rabbitmq, so the
# directories it writes must be its own.
WORK=$(mktemp -d /tmp/burrow-compare-work.XXXXXX)
chmod 755 "$WORK"
BURROW_PID=""
RABBIT_PID=""
FLAGGED=0
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

rabbit_env() {
  env RABBITMQ_NODE_PORT=$RABBIT_PORT RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT RABBITMQ_NODENAME=$RABBIT_NODE \
    RABBITMQ_MNESIA_BASE="$WORK/rabbit/mnesia" RABBITMQ_LOG_BASE="$WORK/rabbit/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$WORK/rabbit/enabled_plugins" \
    ERL_EPMD_PORT=$RABBIT_EPMD_PORT "$@"
}

# A fresh, empty RabbitMQ data directory (no plugins: the management plugin would take 15672).
rabbit_fresh_dirs() {
  rm -rf "$WORK/rabbit"
  mkdir -p "$WORK/rabbit/mnesia" "$WORK/rabbit/log"
  echo '[].' >"$WORK/rabbit/enabled_plugins"
  if [ "$(id -u)" -eq 0 ]; then chown -R rabbitmq:rabbitmq "$WORK/rabbit"; fi
}

rabbit_stop() {
  [ -n "$RABBIT_PID" ] || return 0
  rabbit_env timeout 60 /usr/sbin/rabbitmqctl -n $RABBIT_NODE stop >>"$OUT/rabbitmq.log" 2>&1
  for _ in $(seq 100); do kill -0 "$RABBIT_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$RABBIT_PID" 2>/dev/null; then  # the whole session: su, the scripts, beam.smp
    kill -KILL -- -"$RABBIT_PID" 2>/dev/null
  fi
  wait "$RABBIT_PID" 2>/dev/null
  RABBIT_PID=""
}

rabbit_start() {
  rabbit_fresh_dirs
  rabbit_env setsid /usr/sbin/rabbitmq-server >>"$OUT/rabbitmq.log" 2>&1 &
  RABBIT_PID=$!
  # await_startup fails at once while the node is not yet registered with epmd (the first
  # second or two of the VM's boot), so ask again until it answers.
  local deadline=$((SECONDS + 120))
  while [ $SECONDS -lt $deadline ] && kill -0 "$RABBIT_PID" 2>/dev/null; do
    if rabbit_env timeout 120 /usr/sbin/rabbitmqctl -n $RABBIT_NODE await_startup \
        >>"$OUT/rabbitmqctl.log" 2>&1; then
      return 0
    fi
    sleep 1
  done
  log "RabbitMQ did not start; see $OUT/rabbitmq.log and $OUT/rabbitmqctl.log"
  return 1
}

burrow_stop() {
  [ -n "$BURROW_PID" ] || return 0
  kill -TERM "$BURROW_PID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$BURROW_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$BURROW_PID" 2>/dev/null
  wait "$BURROW_PID" 2>/dev/null
  BURROW_PID=""
}

# burrowd with a fresh data directory; $1 = durability (fsync or os).
burrow_start() {
  rm -rf "$WORK/burrow-data"
  "$BIN/burrowd" --port $BURROW_PORT --bind 127.0.0.1 --http-port -1 \
    --data-dir "$WORK/burrow-data" --durability "$1" --log-level warn >>"$OUT/burrowd.log" 2>&1 &
  BURROW_PID=$!
  for _ in $(seq 200); do
    if (exec 3<>/dev/tcp/127.0.0.1/$BURROW_PORT) 2>/dev/null; then return 0; fi
    kill -0 "$BURROW_PID" 2>/dev/null || break
    sleep 0.05
  done
  log "burrowd did not start; see $OUT/burrowd.log"
  return 1
}

cleanup() {
  trap - EXIT INT TERM
  # Interrupted during a startup round: the broker first_declare.py started (in a session of
  # its own) is known only by its pid file.
  if [ -z "$BURROW_PID$RABBIT_PID" ] && [ -s "$WORK/startup.pid" ]; then
    kill -KILL -- -"$(cat "$WORK/startup.pid")" 2>/dev/null
  fi
  burrow_stop
  rabbit_stop
  # Our epmd (started by RabbitMQ's first start on its own port): stop it by that port.
  if [ -n "$(ss -Hltn "sport = :$RABBIT_EPMD_PORT" 2>/dev/null)" ]; then
    ERL_EPMD_PORT=$RABBIT_EPMD_PORT epmd -kill >/dev/null 2>&1
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Records one run: $1 scenario id, $2 broker, $3 round, $4 result JSON file, $5 exit status,
# $6 scenario description (JSON fields label, short, metrics). Flags lost/duplicated/errors.
record() {
  /usr/bin/python3 - "$@" >>"$OUT/results.jsonl" <<'EOF'
import json, sys
sid, broker, rnd, path, rc, desc = sys.argv[1:7]
desc = json.loads(desc)
flag = ''
try:
    lines = [l for l in open(path).read().splitlines() if l.strip().startswith('{')]
    result = json.loads(lines[-1]) if lines else {}
except Exception as e:
    result = {}
    flag = 'unreadable result: %s' % e
if not flag:
    if not result:
        flag = 'no JSON result (exit %s)' % rc
    elif result.get('error'):
        flag = 'error: %s' % result['error']
    elif 'lost' in result and (result['lost'] or result['duplicated']):
        flag = 'lost=%s duplicated=%s' % (result['lost'], result['duplicated'])
    elif rc != '0':
        flag = 'exit status %s' % rc
    elif any(result.get(m) in (None, 0) for m, _, _ in desc['metrics']):
        flag = 'no figure for %s' % ','.join(m for m, _, _ in desc['metrics'])
print(json.dumps(dict(desc, scenario=sid, broker=broker, round=int(rnd), result=result,
                      exit=int(rc), flag=flag)))
if flag:
    print('FLAGGED %s %s round %s: %s' % (sid, broker, rnd, flag), file=sys.stderr)
EOF
  if tail -1 "$OUT/results.jsonl" | grep -q '"flag": "[^"]'; then FLAGGED=1; fi
}

# The matrix. Each line: id | durability for burrowd | description JSON | burrow-perf flags.
# Rates are burrow-perf's receive_rate (deliveries / time until the last one) unless the
# metrics say otherwise; the backlog reports publishing and draining separately.
URI_B="amqp://guest:guest@127.0.0.1:$BURROW_PORT/%2F"
URI_R="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/%2F"
COMMON="--quiet --drain-timeout 15"
RECV='[["receive_rate", "", "msg/s"]]'
SCENARIOS=(
  "t16|fsync|{\"label\": \"transient 1P/1C 16 B, auto-ack\", \"short\": \"transient 16B\", \"metrics\": $RECV}|-x 1 -y 1 -s 16 -a -z $DURATION"
  "t1k|fsync|{\"label\": \"transient 1P/1C 1 KiB, auto-ack\", \"short\": \"transient 1KiB\", \"metrics\": $RECV}|-x 1 -y 1 -s 1024 -a -z $DURATION"
  "persist|fsync|{\"label\": \"persistent + durable 16 B, confirm window 1000, multi-ack 100 (Burrow fsync)\", \"short\": \"persistent c1000\", \"metrics\": $RECV}|-x 1 -y 1 -s 16 -f persistent --durable -u cmp-durable -c 1000 -A 100 -q 1000 -z $DURATION"
  "confirm1|os|{\"label\": \"persistent + durable 16 B, confirm window 1 (Burrow os)\", \"short\": \"confirm window 1\", \"metrics\": $RECV}|-x 1 -y 1 -s 16 -f persistent --durable -u cmp-confirm1 -c 1 -A 100 -q 1000 -z $DURATION"
  "backlog|os|{\"label\": \"backlog of $BACKLOG persistent 16 B, confirm window 1000, then drain (Burrow os)\", \"short\": \"backlog\", \"metrics\": [[\"send_rate\", \"publish\", \"msg/s\"], [\"receive_rate\", \"drain\", \"msg/s\"]]}|-x 1 -y 1 -s 16 -f persistent --durable -u cmp-backlog --backlog -C $BACKLOG -c 1000 -q 1000 -A 500"
  "q4|fsync|{\"label\": \"4 producers / 4 consumers on 4 queues, transient 16 B, auto-ack\", \"short\": \"4P/4C 4 queues\", \"metrics\": $RECV}|-x 4 -y 4 --queues 4 -s 16 -a -z $DURATION"
  "fanout100|fsync|{\"label\": \"fanout to 100 queues, 1 producer, $FANOUT_COUNT x 16 B, auto-ack (deliveries/s)\", \"short\": \"fanout 100\", \"metrics\": $RECV}|-x 1 --fanout 100 -s 16 -a -C $FANOUT_COUNT"
)
STARTUP_DESC='{"label": "startup to first queue.declare (fresh data dir)", "short": "startup", "metrics": [["startup_ms", "", "ms"]]}'

wanted() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
PERF_TIMEOUT=$((DURATION * 6 + 300))

# Startup first (each round starts both brokers from nothing), then the load scenarios on a
# RabbitMQ node that stays up and a burrowd started fresh for every run.
if wanted startup; then
  for r in $(seq "$ROUNDS"); do
    log "startup round $r: burrowd"
    rm -rf "$WORK/burrow-data"
    f=$OUT/raw/startup-burrow-r$r.json
    rm -f "$WORK/startup.pid"
    /usr/bin/python3 "$ROOT/bench/first_declare.py" --port $BURROW_PORT --timeout 60 \
      --pid-file "$WORK/startup.pid" -- "$BIN/burrowd" --port $BURROW_PORT --bind 127.0.0.1 \
      --http-port -1 --data-dir "$WORK/burrow-data" --log-level warn >"$f"
    rc=$?
    BURROW_PID=$(cat "$WORK/startup.pid" 2>/dev/null)
    burrow_stop
    record startup burrow "$r" "$f" $rc "$STARTUP_DESC"

    log "startup round $r: RabbitMQ"
    rabbit_fresh_dirs
    f=$OUT/raw/startup-rabbitmq-r$r.json
    rm -f "$WORK/startup.pid"
    rabbit_env /usr/bin/python3 "$ROOT/bench/first_declare.py" --port $RABBIT_PORT --timeout 120 \
      --pid-file "$WORK/startup.pid" -- /usr/sbin/rabbitmq-server >"$f"
    rc=$?
    RABBIT_PID=$(cat "$WORK/startup.pid" 2>/dev/null)
    rabbit_stop
    record startup rabbitmq "$r" "$f" $rc "$STARTUP_DESC"
  done
fi

NEED_RABBIT=0
for s in "${SCENARIOS[@]}"; do wanted "${s%%|*}" && NEED_RABBIT=1; done
if [ $NEED_RABBIT -eq 1 ]; then
  log "starting RabbitMQ ($RABBIT_NODE on 127.0.0.1:$RABBIT_PORT)"
  rabbit_start || exit 2
fi

for s in "${SCENARIOS[@]}"; do
  IFS='|' read -r sid durability desc perf_flags <<<"$s"
  wanted "$sid" || continue
  for r in $(seq "$ROUNDS"); do
    for broker in burrow rabbitmq; do
      f=$OUT/raw/$sid-$broker-r$r.json
      if [ $broker = burrow ]; then
        burrow_start "$durability" || { echo '{"error":"burrowd did not start"}' >"$f"; record "$sid" $broker "$r" "$f" 2 "$desc"; continue; }
        uri=$URI_B
      else
        uri=$URI_R
      fi
      log "$sid round $r: $broker (load $(cut -d' ' -f1 /proc/loadavg))"
      # shellcheck disable=SC2086  # perf_flags is a list of words
      timeout -k 10 $PERF_TIMEOUT "$BIN/burrow-perf" -h "$uri" $perf_flags $COMMON \
        >"$f" 2>"${f%.json}.err"
      rc=$?
      [ $broker = burrow ] && burrow_stop
      record "$sid" $broker "$r" "$f" $rc "$desc"
    done
  done
done
rabbit_stop

{
  echo "# bench/compare.sh $(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)," \
    "rounds $ROUNDS x ${DURATION} s, backlog $BACKLOG, fanout $FANOUT_COUNT$([ $QUICK -eq 1 ] && echo ', QUICK smoke run'), load $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/header.txt"
cat "$OUT/header.txt"
/usr/bin/python3 "$ROOT/bench/compare_report.py" "$OUT" || FLAGGED=1

if [ $PLOTS -eq 1 ]; then
  if command -v gnuplot >/dev/null; then
    note="$(date -u +%Y-%m-%d), $ROUNDS round(s) x ${DURATION} s$([ $QUICK -eq 1 ] && echo ', quick smoke run')"
    gnuplot -e "dir='$OUT'; img='$IMG'; note='$note'" "$ROOT/bench/compare.gp" &&
      log "plots: $IMG/compare-{throughput,startup,latency}.png"
  else
    log "gnuplot missing (apt-get install gnuplot-nox): no plots"
  fi
fi
log "results: $OUT (results.jsonl, table.md, raw/)"
exit $FLAGGED

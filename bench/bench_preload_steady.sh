#!/usr/bin/env bash
# bench/bench_preload_steady.sh BUILD_DIR -- what `evtrace record` costs a
# busy unmodified server, measured the way bench_server.sh measures the
# linked one: the throughput it can sustain.
#
# Three tests/plain_server run side by side, started once and kept running:
# one untraced, one under `evtrace record -o FILE --`, a second untraced
# one (the null); loadgen (-c 50, keep-alive) hits them in rotating rounds
# (bench/lib/rounds.sh). bench_preload's preload_overhead_ratio measures the
# same server another way: a fresh server every round, driven by a blocking
# client with 8 requests in flight, in lockstep -- a latency-bound load,
# where every round trip pays the tracer's time and each loop iteration's
# cost is shared by only 8 requests. This one is the saturated server.
# docs/OVERHEAD.md compares them.
#
# Prints:
#   preload_steady_rps_plain: X req/s    (mean over the rounds)
#   preload_steady_rps_traced: X req/s
#   preload_steady_ratio: X ratio        (median over the rounds of traced
#   preload_steady_ratio_q1/_q3           over untraced, and quartiles)
#   preload_steady_null_ratio: X ratio   (the second untraced server over
#   preload_steady_null_ratio_q1/_q3      the first: "no difference" in this
#                                         run)
#   preload_steady_cpu_ratio: X ratio    (CPU time per request, the traced
#                                         program and its consumer process,
#                                         over the untraced server's)
#   preload_steady_cpu_program_ratio: X ratio  (the traced program alone)
# ROUNDS (default 31), REQUESTS (5000 per round) and CONC (50) override the
# sizes. If the trace is missing at the end (the preload did not load), the
# figures are not printed: a line on stderr and status 1.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
. "$(dirname "$0")/lib/rounds.sh"
BUILD=${1:-build}
S="$BUILD/samples"
T="$BUILD/tests"
rounds_setup bench_preload

# start NAME [record ARGS...]: a plain_server, maybe under evtrace record;
# sets PORT and PID (the process started: record's, when recording).
start() {
  local name=$1 i; shift
  "$@" "$T/plain_server" >"$TMP/$name.log" 2>"$TMP/$name.err" &
  PID=$!
  PIDS+=("$PID")
  for i in $(seq 100); do
    PORT=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$TMP/$name.log")
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  echo "bench_preload_steady: plain_server ($name) did not start: $(head -c 300 "$TMP/$name.err")" >&2
  exit 1
}

start plain; PLAIN=$PORT; PLAIN_PID=$PID
start traced "$BUILD/tracer/evtrace" record -o "$TMP/bench.evtrace" --; TRACED=$PORT; REC_PID=$PID
start null; NULLP=$PORT
PROG_PID=$(cat /proc/"$REC_PID"/task/*/children | awk '{ print $1; exit }')
rounds_warm "$PLAIN" "$TRACED" "$NULLP"
CPU_P0=$(cpu_us "$PLAIN_PID"); CPU_T0=$(cpu_us "$PROG_PID"); OWN_T0=$(own_us "$PROG_PID")
rounds_run "$PLAIN" "$TRACED" "$NULLP"
CPU_P=$(( $(cpu_us "$PLAIN_PID") - CPU_P0 )); CPU_T=$(( $(cpu_us "$PROG_PID") - CPU_T0 ))
OWN_T=$(( $(own_us "$PROG_PID") - OWN_T0 ))

kill -TERM "$REC_PID"; wait "$REC_PID" 2>/dev/null || true
if [ ! -s "$TMP/bench.evtrace" ]; then
  echo "bench_preload_steady: no trace written: $(head -c 300 "$TMP/traced.err")" >&2
  exit 1
fi
awk '{ p += $1; t += $2 } END {
  printf "preload_steady_rps_plain: %.1f req/s\n", p / NR
  printf "preload_steady_rps_traced: %.1f req/s\n", t / NR
}' "$TMP/rounds"
rounds_quantiles 2 preload_steady_ratio
rounds_quantiles 3 preload_steady_null_ratio
awk -v cp="$CPU_P" -v ct="$CPU_T" -v ot="$OWN_T" 'BEGIN {
  printf "preload_steady_cpu_ratio: %.3f ratio\n", (cp > 0 ? ct / cp : 0)
  printf "preload_steady_cpu_program_ratio: %.3f ratio\n", (cp > 0 ? ot / cp : 0)
}'

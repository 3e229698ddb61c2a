#!/usr/bin/env bash
# bench/bench_server.sh BUILD_DIR -- what tracing costs a busy server.
#
# Three async_servers run side by side (--delay-ms 0), one traced to a
# file, two not; loadgen (-c 50, keep-alive) hits them in rotating rounds
# (which one goes first rotates too), so all see the same machine noise.
# Prints:
#   server_rps_untraced: X req/s   (mean over the rounds)
#   server_rps_traced: X req/s
#   server_traced_ratio: X ratio   (median over the rounds of traced/untraced;
#                                   1.0 = free; a median because one noisy
#                                   round on a shared machine moves a mean)
#   server_traced_ratio_q1: X ratio  (first and third quartiles of the same
#   server_traced_ratio_q3: X ratio   per-round ratios: how noisy this run was)
#   server_null_ratio: X ratio     (the same for a second untraced server
#   server_null_ratio_q1/_q3         against the first: what "no difference"
#                                   reads as in this run, 1.0 on a quiet
#                                   machine; a traced ratio is worth only
#                                   its distance from this one)
#   server_cpu_untraced: X us/req  (the server's CPU time, all its threads,
#   server_cpu_traced: X us/req     per request served, from the scheduler's
#   server_cpu_ratio: X ratio       ns counts: less sensitive to other load
#                                   than req/s; the traced one's includes
#                                   its consumer process)
#   server_cpu_program_ratio: X ratio  (the traced server's own threads only,
#                                   over the untraced: what the program pays)
#   server_cpu_consumer: X us/req  (the consumer process's CPU per request)
#   server_user_share: X ratio     (the untraced server's user-space time over
#                                   its CPU time, from /proc/PID/stat's ticks:
#                                   callgrind counts user space only, so an
#                                   instruction ratio r of the program predicts
#                                   a time ratio of about 1 / (1 + (r - 1) *
#                                   share); docs/OVERHEAD.md)
#
# How the rounds go, and why many short ones: bench/lib/rounds.sh. The
# median still follows the machine's load: under heavy outside load the
# traced server (it has a second process, the tracer's consumer) loses more
# rounds than the untraced one, and the ratio drops by a percent or two
# (server_null_ratio shows how far the run's noise goes).
# ROUNDS (default 31 rounds of the three), REQUESTS (5000 per round) and CONC
# (50) override the sizes; ROUNDS_FILE=PATH keeps the per-round
# "untraced traced untraced-2" req/s there, to look at the noise.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
. "$(dirname "$0")/lib/rounds.sh"
BUILD=${1:-build}
S="$BUILD/samples"
rounds_setup bench_server

# start NAME ARGS...: an async_server on a free port; sets PORT.
start() {
  local name=$1; shift
  "$S/async_server" --port 0 --delay-ms 0 "$@" >"$TMP/$name.log" 2>&1 &
  PIDS+=($!)
  PORT=$(wait_port "$TMP/$name.log") && return 0
  echo "bench_server: async_server did not start" >&2
  exit 1
}

start plain; PLAIN=$PORT; PLAIN_PID=$!
start traced --trace "$TMP/bench.evtrace"; TRACED=$PORT; TRACED_PID=$!
start null; NULLP=$PORT
rounds_warm "$PLAIN" "$TRACED" "$NULLP"
CPU_P0=$(cpu_us "$PLAIN_PID"); CPU_T0=$(cpu_us "$TRACED_PID"); TICKS_P0=$(ticks "$PLAIN_PID")
OWN_T0=$(own_us "$TRACED_PID")
rounds_run "$PLAIN" "$TRACED" "$NULLP"
[ -n "${ROUNDS_FILE:-}" ] && cp "$TMP/rounds" "$ROUNDS_FILE"
CPU_P=$(( $(cpu_us "$PLAIN_PID") - CPU_P0 )); CPU_T=$(( $(cpu_us "$TRACED_PID") - CPU_T0 ))
OWN_T=$(( $(own_us "$TRACED_PID") - OWN_T0 ))
TICKS_P=$(ticks "$PLAIN_PID")

awk '{ p += $1; t += $2 } END {
  printf "server_rps_untraced: %.1f req/s\n", p / NR
  printf "server_rps_traced: %.1f req/s\n", t / NR
}' "$TMP/rounds"
rounds_quantiles 2 server_traced_ratio
rounds_quantiles 3 server_null_ratio
awk -v n="$((ROUNDS * REQUESTS))" -v cp="$CPU_P" -v ct="$CPU_T" -v ot="$OWN_T" 'BEGIN {
  printf "server_cpu_untraced: %.2f us/req\n", cp / n
  printf "server_cpu_traced: %.2f us/req\n", ct / n
  printf "server_cpu_ratio: %.3f ratio\n", (cp > 0 ? ct / cp : 0)
  printf "server_cpu_program_ratio: %.3f ratio\n", (cp > 0 ? ot / cp : 0)
  printf "server_cpu_consumer: %.3f us/req\n", (ct - ot) / n
}'
echo "$TICKS_P0 $TICKS_P" | awk '$4 > $2 { printf "server_user_share: %.3f ratio\n", ($3 - $1) / ($4 - $2) }'

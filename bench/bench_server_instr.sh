#!/usr/bin/env bash
# bench/bench_server_instr.sh BUILD_DIR -- what tracing costs async_server,
# in instructions: the figure that does not move with the machine's load.
#
# async_server --delay-ms 0 runs under valgrind --tool=callgrind, untraced
# and traced (--trace), answering loadgen -n N -c 50; then again with 5N
# requests. The difference between the two runs, divided by 4N, is the
# marginal cost of one request: start-up, the tracer's open and the final
# flush cancel out. All threads and processes are counted: the program's
# (callgrind --separate-threads; thread 1 is the loop, a flusher thread if
# any is the other) and the tracer's consumer process (evt_consumer.c; a
# copy of the program, which valgrind follows). callgrind sees user space
# only: this async_server spends about 70 % of its time in the kernel, so
# the instruction ratio is not a time ratio (docs/OVERHEAD.md).
#
# Prints:
#   server_instr_untraced: X instructions   (per request)
#   server_instr_traced: X instructions
#   server_instr_traced_loop_thread: X instructions
#   server_instr_traced_consumer: X instructions  (the consumer process's)
#   server_instr_added: X instructions
#   server_instr_ratio: X ratio
# N (default 2000) overrides the size. Without valgrind: a line on stderr
# and nothing else.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib.sh"
BUILD=${1:-build}
S="$BUILD/samples"
N=${N:-2000}
if ! command -v valgrind >/dev/null; then
  echo "bench_server_instr: no valgrind, skipped" >&2
  exit 0
fi
TMP=$(mktemp -d /tmp/evt_bench_instr.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# run NAME REQUESTS ARGS...: one callgrind run; leaves $TMP/NAME.PID.cg-NN
# per process and thread, and the program's PID in $TMP/NAME.pid.
# EVTRACE_FLUSH=process: under valgrind, whose own memory counts as the
# program's, the traced server would look too big for a consumer process
# (evt_consumer.c) and get the flusher thread; the consumer is what is
# measured.
run() {
  local name=$1 requests=$2; shift 2
  EVTRACE_FLUSH=process valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$TMP/$name.%p.cg" \
    "$S/async_server" --port 0 --delay-ms 0 "$@" >"$TMP/$name.log" 2>&1 &
  local pid=$! port
  echo "$pid" >"$TMP/$name.pid"
  if ! port=$(WAIT_PORT_TRIES=600 wait_port "$TMP/$name.log"); then
    echo "bench_server_instr: async_server did not start under valgrind" >&2
    kill "$pid" 2>/dev/null; exit 1
  fi
  "$S/loadgen" -n "$requests" -c 50 "http://127.0.0.1:$port/" >/dev/null
  kill -TERM "$pid"
  wait "$pid" || true
  sleep 1   # the consumer's own end under valgrind (its leak scan)
}

# total NAME [WHICH]: instructions of every process and thread of the run;
# WHICH = prog (the program's threads) or loop (its thread 01).
total() {
  local pid files
  pid=$(cat "$TMP/$1.pid")
  case "${2:-}" in
    prog) files=("$TMP/$1.$pid".cg-*) ;;
    loop) files=("$TMP/$1.$pid.cg-01") ;;
    *) files=("$TMP/$1".*.cg-*) ;;
  esac
  awk '/^totals:/ { n += $2 } END { printf "%.0f\n", n }' "${files[@]}"
}

run plain1 "$N"
run plain5 $((N * 5))
run traced1 "$N" --trace "$TMP/t1.evtrace"
run traced5 $((N * 5)) --trace "$TMP/t5.evtrace"
awk -v p1="$(total plain1)" -v p5="$(total plain5)" -v t1="$(total traced1)" -v t5="$(total traced5)" \
    -v l1="$(total traced1 loop)" -v l5="$(total traced5 loop)" \
    -v g1="$(total traced1 prog)" -v g5="$(total traced5 prog)" -v n="$((N * 4))" 'BEGIN {
  p = (p5 - p1) / n; t = (t5 - t1) / n; l = (l5 - l1) / n; c = t - (g5 - g1) / n
  printf "server_instr_untraced: %.0f instructions\n", p
  printf "server_instr_traced: %.0f instructions\n", t
  printf "server_instr_traced_loop_thread: %.0f instructions\n", l
  printf "server_instr_traced_consumer: %.0f instructions\n", c
  printf "server_instr_added: %.0f instructions\n", t - p
  printf "server_instr_ratio: %.4f ratio\n", (p > 0 ? t / p : 0)
}'

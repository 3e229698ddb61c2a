#!/usr/bin/env bash
# scripts/demo.sh [BUILD_DIR] [OUT_DIR] -- the lesson in one command.
#
# Runs each sample server under loadgen, traced, and prints one comparison
# table. Builds nothing: run it after the build (BUILD_DIR defaults to
# build, OUT_DIR to out). Writes, per run NAME:
#   OUT/NAME.evtrace           the server's trace
#   OUT/NAME-loadgen.evtrace   the client's trace
#   OUT/NAME.png               the load client's and the server's timelines
#                              on one time axis (if evview was built)
#   OUT/NAME.loadgen.json, OUT/NAME.stats.json   the table's inputs
# and then runs samples/gevent_server.py under `evtrace record` (an
# unmodified Python program): OUT/gevent.evtrace, OUT/gevent.png.
# Takes about 20 seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BUILD=${1:-build}
OUT=${2:-out}
S="$BUILD/samples"
EVTRACE="$BUILD/tracer/evtrace"
EVVIEW="$BUILD/viewer/evview"
for b in sync_server async_server crud_api loadgen demo_table; do
  [ -x "$S/$b" ] || { echo "demo.sh: $S/$b not found: build first (cmake --build $BUILD)" >&2; exit 2; }
done
mkdir -p "$OUT"
SERVER_PID=

cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; true; }
trap cleanup EXIT

# start_server NAME BINARY ARGS...: starts it on a free port, sets PORT.
start_server() {
  local name=$1 bin=$2; shift 2
  local log="$OUT/$name.server.log"
  "$S/$bin" --port 0 --trace "$OUT/$name.evtrace" "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  PORT=$(wait_port "$log") && return 0
  echo "demo.sh: $bin did not start (see $log)" >&2
  exit 1
}

stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || echo "demo.sh: server exited with status $?" >&2
  SERVER_PID=
}

# run NAME BINARY "SERVER ARGS" LOADGEN ARGS...
run() {
  local name=$1 bin=$2 sargs=$3; shift 3
  echo "== $name: $bin $sargs | loadgen $*" >&2
  # shellcheck disable=SC2086
  start_server "$name" "$bin" $sargs
  "$S/loadgen" --json --trace "$OUT/$name-loadgen.evtrace" "$@" "http://127.0.0.1:$PORT/" \
    >"$OUT/$name.loadgen.json" || echo "demo.sh: loadgen reported errors for $name" >&2
  stop_server
  if [ -x "$EVTRACE" ]; then
    "$EVTRACE" stats --json --stall-ms 20 "$OUT/$name.evtrace" >"$OUT/$name.stats.json" || true
  fi
  if [ -x "$EVVIEW" ]; then
    # Client on top: its requests go out at once and (sync) come back as a
    # staircase; the server below shows how it served them.
    # --stall-ms as for the table's "stall ms" column.
    "$EVVIEW" --png "$OUT/$name.png" --stall-ms 20 "client=$OUT/$name-loadgen.evtrace" "server=$OUT/$name.evtrace" >&2 \
      || echo "demo.sh: evview failed for $name" >&2
  fi
  ROWS+=("$name" "$OUT/$name.loadgen.json" "$OUT/$name.stats.json")
}

ROWS=()
rm -f "$OUT"/demo-*.db*
run sync sync_server "--delay-ms 500" -n 10 -c 10
run async async_server "--delay-ms 2000" -n 100 -c 100
run crud-inline crud_api "--db $OUT/demo-inline.db --db-mode inline --db-latency-ms 50" --scenario crud -n 20 -c 10
run crud-offload crud_api "--db $OUT/demo-offload.db --db-mode offload --db-latency-ms 50" --scenario crud -n 20 -c 10
echo
"$S/demo_table" "${ROWS[@]}"

# The same lesson in an unmodified program: samples/gevent_server.py
# (Python, gevent on Debian's libev), traced from outside by `evtrace
# record`. 20 requests that gevent.sleep(0.15) overlap; 4 that
# time.sleep(0.15) block the loop one after another: a wall in gevent.png.
record_gevent() {
  local log="$OUT/gevent.server.log"
  echo >&2
  echo "== gevent: evtrace record -- python3 samples/gevent_server.py | loadgen -n 20 -c 20 /nap; -n 4 -c 4 /slow" >&2
  "$EVTRACE" record -o "$OUT/gevent.evtrace" -- /usr/bin/python3 samples/gevent_server.py >"$log" \
    2>"$OUT/gevent.record.log" &
  SERVER_PID=$!
  PORT=$(wait_port "$log") || { echo "demo.sh: gevent_server did not start (see $log)" >&2; return 0; }
  "$S/loadgen" -n 20 -c 20 "http://127.0.0.1:$PORT/nap" | sed -n 's/^wall_time: /  \/nap:  20 requests, wall /p'
  "$S/loadgen" -n 4 -c 4 "http://127.0.0.1:$PORT/slow" | sed -n 's/^wall_time: /  \/slow: 4 requests, wall /p'
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf 'QUIT\r\n\r\n' >&3 && cat <&3 >/dev/null
  exec 3>&-
  wait "$SERVER_PID" || echo "demo.sh: gevent_server exited with status $?" >&2
  SERVER_PID=
  sed 's/^evtrace record: /  /' "$OUT/gevent.record.log"
  if [ -x "$EVVIEW" ]; then
    "$EVVIEW" --png "$OUT/gevent.png" --stall-ms 20 "gevent_server.py=$OUT/gevent.evtrace" >&2 \
      || echo "demo.sh: evview failed for gevent" >&2
  fi
}
if /usr/bin/python3 -c 'import gevent' 2>/dev/null; then
  record_gevent
else
  echo "demo.sh: python3-gevent is not installed: the gevent run is skipped" >&2
fi

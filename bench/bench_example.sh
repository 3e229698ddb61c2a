#!/usr/bin/env bash
# bench/bench_example.sh BUILD_DIR -- the trace size of the example program.
#
# Runs samples/hello_loop (timers, an io watcher on a pipe, requests, marks,
# counters; about one second) traced and prints
#   bytes_per_event: X bytes   file bytes (headers, strings, chunk headers,
#                              all) per event, as `evtrace stats` counts them
#   example_events: N events
# A short program flushes often, so chunk headers weigh more here than in a
# busy server (bench_record's server_bytes_per_event).
set -euo pipefail
BUILD=${1:-build}
TMP=$(mktemp -d /tmp/evt_bench_example.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
"$BUILD/samples/hello_loop" --trace "$TMP/hello.evtrace" >/dev/null
line=$("$BUILD/tracer/evtrace" stats "$TMP/hello.evtrace" | grep -m1 '^events')
# "events        245  (lost 0, unmatched ends 0)  8.73 bytes/event"
echo "bytes_per_event: $(sed -n 's/.* \([0-9.]*\) bytes\/event.*/\1/p' <<<"$line") bytes"
echo "example_events: $(awk '{print $2}' <<<"$line") events"

# bench/lib/rounds.sh -- the alternating-rounds engine of the throughput
# benchmarks (bench_server.sh, bench_preload_steady.sh), sourced by them.
#
# Several servers run side by side, started once and kept running; loadgen
# (keep-alive, CONC connections) hits each in turn with REQUESTS requests,
# ROUNDS times, and who goes first rotates every round, so all of them see
# the same machine noise. A server's figure is then the median over the
# rounds of its req/s over the first server's (the untraced one) in the
# same round: a median, because one noisy round on a shared machine moves a
# mean. One of the servers is a second untraced copy: its ratio, the null,
# is what "no difference" reads as in that run.
#
# Many short rounds rather than a few long ones: what moves a ratio on a
# shared 2-core machine is other programs taking a core for a fraction of
# a second to a few seconds, so a round's servers should be measured close
# in time, and the median should have many rounds to choose from. On this
# project's 2-core machine, four runs of each, interleaved: 7 pairs of
# 20000-request rounds gave medians from 0.955 to 0.982; 31 pairs of 5000
# (rounds of ~110 ms, about the same total time) from 0.967 to 0.977.
# Shorter rounds (2500 requests, ~55 ms) were no steadier.
#
# The caller sets S (the samples directory, for loadgen) and calls:
#   rounds_setup NAME             the sizes (ROUNDS, default 31; REQUESTS,
#                                 5000; CONC, 50: the environment overrides
#                                 them), TMP (a scratch directory) and PIDS
#                                 (the servers started: they get SIGTERM,
#                                 and TMP goes, when the script exits)
#   rounds_warm PORT...           one round each, not counted (call it before
#                                 taking the CPU counts the figures start from)
#   rounds_run PORT...            the rounds; $TMP/rounds gets one line per
#                                 round, the servers' req/s in PORT order
#   rounds_quantiles COL NAME     prints NAME, NAME_q1, NAME_q3: median and
#                                 quartiles of column COL over column 1
#   cpu_us PID                    CPU time so far of PID and every process
#                                 under it, all threads, in us
#   own_us PID                    the same, PID's own threads only
#   ticks PID                     "USER ALL" clock ticks of PID (user space,
#                                 and user + kernel)

rounds_setup() {
  ROUNDS=${ROUNDS:-31}
  REQUESTS=${REQUESTS:-5000}
  CONC=${CONC:-50}
  TMP=$(mktemp -d "/tmp/evt_$1.XXXXXX")
  PIDS=()
  trap rounds_cleanup EXIT
}

rounds_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}

rps() {   # rps PORT: one loadgen round, prints its req/s
  "$S/loadgen" -n "$REQUESTS" -c "$CONC" "http://127.0.0.1:$1/" | sed -n 's/^req_per_s: \([0-9.]*\).*/\1/p'
}

rounds_warm() {
  local p
  for p in "$@"; do rps "$p" >/dev/null; done
}

rounds_run() {
  local ports=("$@") n=$# i k j
  local line=()
  : >"$TMP/rounds"
  for i in $(seq "$ROUNDS"); do
    for k in $(seq 0 $((n - 1))); do   # who goes first rotates
      j=$(((k + i) % n))
      line[j]=$(rps "${ports[j]}")
    done
    echo "${line[*]}" >>"$TMP/rounds"
  done
}

rounds_quantiles() {
  awk -v c="$1" '{ print ($1 > 0 ? $c / $1 : 0) }' "$TMP/rounds" | sort -n | awk -v name="$2" '
    function pct(q,   x, i) {   # the q-quantile of r[1..NR] (sorted), linear between ranks
      x = 1 + q * (NR - 1); i = int(x)
      return i >= NR ? r[NR] : r[i] + (x - i) * (r[i + 1] - r[i])
    }
    { r[NR] = $1 }
    END {
      printf "%s: %.3f ratio\n", name, pct(0.5)
      printf "%s_q1: %.3f ratio\n", name, pct(0.25)
      printf "%s_q3: %.3f ratio\n", name, pct(0.75)
    }'
}

# The scheduler's own ns counts (first field of each
# /proc/PID/task/TID/schedstat), where /proc/PID/stat counts 10 ms ticks --
# too coarse for rounds of ~100 ms, which made a ratio swing by 10 %.
descendants() {   # descendants PID: PID and every process under it
  local p
  echo "$1"
  for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do descendants "$p"; done
}

cpu_us() {
  local p
  for p in $(descendants "$1"); do cat /proc/"$p"/task/*/schedstat 2>/dev/null || true; done |
    awk '{ ns += $1 } END { printf "%.0f\n", ns / 1000 }'
}

own_us() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ ns += $1 } END { printf "%.0f\n", ns / 1000 }'
}

# Fields 14 and 15 of /proc/PID/stat (the servers' names hold no space, so
# the fields split plainly).
ticks() {
  awk '{ print $14, $14 + $15 }' /proc/"$1"/stat
}

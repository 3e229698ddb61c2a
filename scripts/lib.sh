# scripts/lib.sh -- shell helpers shared by scripts/demo.sh and bench/*.sh.

# wait_port LOG: waits (up to 5 s; WAIT_PORT_TRIES x 50 ms) for a sample
# server started with --port 0 to write "listening on ADDR:PORT" to LOG;
# prints PORT, or returns 1 if it never did.
wait_port() {
  local port
  for _ in $(seq "${WAIT_PORT_TRIES:-100}"); do
    port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$1")
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.05
  done
  return 1
}

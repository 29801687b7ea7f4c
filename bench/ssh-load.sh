#!/usr/bin/env bash
# The SSH console under a team's load: C people logged in at once over
# loopback to the real `paydesk ssh` (another process), each scrolling the
# Orders view of N orders by holding j; one session alone first, as the peer.
# Reports key → frame latency per session and the server's memory per session.
# Usage: bench/ssh-load.sh [N] [C] [KEYS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
C=${2:-20}
KEYS=${3:-600}
OUT=bench/out/ssh
ADDR=127.0.0.1:12222
mkdir -p "$OUT"
go build -o "$OUT/paydesk" .
go build -o "$OUT/sshload" ./bench/sshload
"$OUT/sshload" prepare -dir "$OUT" -n "$N" -users "$C" -listen "$ADDR"
"$OUT/paydesk" --config "$OUT/paydesk.toml" ssh > "$OUT/ssh.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do grep -q 'ssh console listening' "$OUT/ssh.log" && break; sleep 0.1; done
grep -q 'ssh console listening' "$OUT/ssh.log" || { cat "$OUT/ssh.log"; exit 1; }
"$OUT/sshload" fire -dir "$OUT" -addr "$ADDR" -n "$N" -sessions "$C" -keys "$KEYS" -pid "$pid"
kill "$pid"; wait "$pid" || true

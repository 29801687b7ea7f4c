#!/usr/bin/env bash
# Load test of the notification endpoint from a second process on loopback.
# Prepares N signed notifications (half Alipay, half WeChat) for N orders,
# then for each mode (signature verification on, and off: the same handler
# with verification replaced by a lookup) starts the endpoint on a fresh copy
# of the database and fires every notification at it with C senders.
# Usage: bench/notify-load.sh [N] [C]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
C=${2:-64}
OUT=bench/out/notify
rm -rf "$OUT" && mkdir -p "$OUT"
go build -o "$OUT/notifyload" ./bench/notifyload
"$OUT/notifyload" prepare -dir "$OUT" -n "$N"
for verify in true false; do
  db="$OUT/run-$verify.db"
  cp "$OUT/template.db" "$db"
  "$OUT/notifyload" serve -dir "$OUT" -db "$db" -verify="$verify" -listen 127.0.0.1:18181 > "$OUT/serve-$verify.log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null' EXIT
  for _ in $(seq 1 100); do grep -q ready "$OUT/serve-$verify.log" && break; sleep 0.1; done
  grep -q ready "$OUT/serve-$verify.log" || { cat "$OUT/serve-$verify.log"; exit 1; }
  echo "== verification $verify"
  "$OUT/notifyload" fire -dir "$OUT" -db "$db" -url http://127.0.0.1:18181 -c "$C"
  kill "$pid"; wait "$pid" || true
done

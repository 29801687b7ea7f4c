#!/usr/bin/env bash
# Load test of the notification endpoint from a second process on loopback.
# Prepares N signed notifications (half Alipay, half WeChat) for N orders,
# then for each store engine (SQLite, and PostgreSQL on a durable throwaway
# server: bench/pgserver) and each mode (signature verification on, and off:
# the same handler with verification replaced by a lookup) starts the
# endpoint on a fresh copy of the orders and fires every notification at it
# with C senders.
# Usage: bench/notify-load.sh [N] [C] [ENGINES]     ENGINES default "sqlite postgres"
# PGSET="synchronous_commit=off" runs the server with that setting (space-separated
# name=value pairs). RUNS=3 fires at each engine and mode three times (a fresh
# copy of the orders each time; all within the WeChat notifications' five
# minutes). MODES="true" leaves out the runs without verification.
# CLIENT=net/http sends with Go's http.Client instead of the cheaper
# pre-serialized requests (bench/notifyload/send.go).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
C=${2:-64}
ENGINES=${3:-sqlite postgres}
RUNS=${RUNS:-1}
MODES=${MODES:-true false}
CLIENT=${CLIENT:-raw}
OUT=bench/out/notify
rm -rf "$OUT" && mkdir -p "$OUT"
go build -o "$OUT/notifyload" ./bench/notifyload
go build -o "$OUT/pgserver" ./bench/pgserver
"$OUT/notifyload" prepare -dir "$OUT" -n "$N"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
if [[ " $ENGINES " == *" postgres "* ]]; then
  sets=()
  for kv in ${PGSET:-}; do sets+=(-set "$kv"); done
  "$OUT/pgserver" "${sets[@]}" > "$OUT/pgserver.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do grep -q '^url ' "$OUT/pgserver.log" && break; sleep 0.1; done
  ADMIN=$(awk '/^url /{print $2}' "$OUT/pgserver.log")
  [ -n "$ADMIN" ] || { cat "$OUT/pgserver.log"; exit 1; }
fi
for engine in $ENGINES; do
  for run in $(seq 1 "$RUNS"); do
  for verify in $MODES; do
    if [ "$engine" = sqlite ]; then
      db="$OUT/run-$verify.db"
      rm -f "$db" "$db-wal" "$db-shm"
      cp "$OUT/template.db" "$db"
    else
      db=$("$OUT/pgserver" createdb -admin "$ADMIN" -name "notify_${verify}_$run")
      "$OUT/notifyload" copy -dir "$OUT" -db "$db"
    fi
    log="$OUT/serve-$engine-$verify-$run.log"
    "$OUT/notifyload" serve -dir "$OUT" -db "$db" -verify="$verify" -listen 127.0.0.1:18181 > "$log" 2>&1 &
    pid=$!
    pids+=($pid)
    for _ in $(seq 1 100); do grep -q ready "$log" && break; sleep 0.1; done
    grep -q ready "$log" || { cat "$log"; exit 1; }
    echo "== $engine, verification $verify, run $run"
    "$OUT/notifyload" fire -dir "$OUT" -db "$db" -url http://127.0.0.1:18181 -c "$C" -client "$CLIENT"
    kill "$pid"; wait "$pid" || true
  done
  done
done

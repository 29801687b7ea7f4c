#!/usr/bin/env bash
# A/B of the callback endpoint between two source trees, alternated, with
# one sender (this tree's notifyload fire) for both, on SQLite:
#   bench/ab-notify.sh OLD_TREE [NEW_TREE] [ROUNDS]
# Each tree builds its own notifyload (its endpoint and store) and prepares
# its own N notifications (WeChat's stay fresh for five minutes: keep N and
# ROUNDS small enough). Prints each run's figures and the sender's CPU
# seconds (user+sys). N, C and CLIENT (raw or net/http) as notify-load.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$(cd "$1" && pwd); B=$(cd "${2:-.}" && pwd); ROUNDS=${3:-3}
N=${N:-20000}; C=${C:-64}; CLIENT=${CLIENT:-raw}
OUT=bench/out/ab-notify; rm -rf "$OUT"; mkdir -p "$OUT/a" "$OUT/b"
go build -o "$OUT/fire" ./bench/notifyload
for s in a b; do
  tree=$A; [ $s = b ] && tree=$B
  (cd "$tree" && go build -o "$OLDPWD/$OUT/$s/notifyload" ./bench/notifyload)
  (cd "$tree" && "$OLDPWD/$OUT/$s/notifyload" prepare -dir "$OLDPWD/$OUT/$s" -n "$N" > /dev/null)
done
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT
for r in $(seq 1 "$ROUNDS"); do
  for s in a b; do
    db=$OUT/$s/run.db; rm -f "$db" "$db-wal" "$db-shm"; cp "$OUT/$s/template.db" "$db"
    "$OUT/$s/notifyload" serve -dir "$OUT/$s" -db "$db" -listen 127.0.0.1:18181 > "$OUT/$s/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do grep -q ready "$OUT/$s/serve.log" && break; sleep 0.1; done
    /usr/bin/time -f "%U %S" -o "$OUT/time.txt" "$OUT/fire" fire -dir "$OUT/$s" -db "$db" -url http://127.0.0.1:18181 -c "$C" -client "$CLIENT" > "$OUT/fire.txt"
    read -r u sy < "$OUT/time.txt"
    echo "$s ($( [ $s = a ] && echo "$A" || echo "$B")) round $r: $(tr '\n' ' ' < "$OUT/fire.txt")sender_cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2fs", u + s }')"
    kill "$pid"; wait "$pid" || true; pid=
  done
done

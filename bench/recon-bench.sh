#!/usr/bin/env bash
# Reconciliation benchmark: `paydesk recon run` end to end on N orders and an
# N-line Alipay bill (GBK zip, 25 columns, 0.3% perturbed), and in the same
# run the same comparison by DuckDB (@duckdb/node-api, plain CSVs) and by the
# sqlite3 CLI (.import + join), and paydesk again on PostgreSQL (a durable
# throwaway server, bench/pgserver; the orders put there once with
# `paydesk store copy`, each run on a fresh copy of that database). Wall time
# and peak RSS of each, best of R.
# Usage: bench/recon-bench.sh [N] [R]       (N default 1000000, R default 3)
# PG=0 leaves PostgreSQL out.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
R=${2:-3}
OUT=bench/out/recon-$N
mkdir -p "$OUT"
go build -o bench/out/paydesk .
go build -o bench/out/recongen ./bench/recongen
go build -o bench/out/pgserver ./bench/pgserver
if [ ! -f "$OUT/bill.zip" ]; then bench/out/recongen -dir "$OUT" -n "$N"; fi
(cd bench && [ -d node_modules/@duckdb/node-api ] || npm install --no-audit --no-fund --silent)
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing: apt-get install sqlite3"; exit 1; }

source bench/measure.sh
best() { sort -k2 -n | head -1; }

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
: > "$OUT/results.txt"
PG=${PG:-1}
if [ "$PG" = 1 ]; then
  bench/out/pgserver > "$OUT/pgserver.log" 2>&1 &
  pgpid=$!
  trap 'kill $pgpid 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do grep -q '^url ' "$OUT/pgserver.log" && break; sleep 0.1; done
  ADMIN=$(awk '/^url /{print $2}' "$OUT/pgserver.log")
  [ -n "$ADMIN" ] || { cat "$OUT/pgserver.log"; exit 1; }
  TPL=$(bench/out/pgserver createdb -admin "$ADMIN" -name recon_template)
  cp "$OUT/template.db" "$OUT/paydesk.db"
  echo "copying the $N orders into PostgreSQL (store copy)"
  /usr/bin/time -f "store copy: %e s, peak RSS %M KB" bench/out/paydesk --config "$OUT/paydesk.toml" store copy --to "$TPL" > "$OUT/copy.out"
fi
for _ in $(seq "$R"); do
  cp "$OUT/template.db" "$OUT/paydesk.db"; rm -rf "$OUT/bills"
  sync # the copy's writeback is not the run's
  measure paydesk bench/out/paydesk --config "$OUT/paydesk.toml" recon run --channel alipay --date 2026-11-22 --bill "$OUT/bill.zip" --json >> "$OUT/results.txt"
  measure duckdb node bench/duckdb-recon.mjs "$OUT" >> "$OUT/results.txt"
  measure sqlite3 sh -c "cd $OUT && sqlite3 < ../../sqlite3-recon.sql" >> "$OUT/results.txt"
  if [ "$PG" = 1 ]; then
    db=$(bench/out/pgserver createdb -admin "$ADMIN" -name recon_run -template recon_template)
    rm -rf "$OUT/bills"
    measure paydesk-pg bench/out/paydesk --config "$OUT/paydesk.toml" --db "$db" recon run --channel alipay --date 2026-11-22 --bill "$OUT/bill.zip" --json >> "$OUT/results.txt"
  fi
done
p=$(grep '^paydesk ' "$OUT/results.txt" | best); d=$(grep ^duckdb "$OUT/results.txt" | best); s=$(grep ^sqlite3 "$OUT/results.txt" | best)
echo "N=$N  best of $R (wall seconds, peak RSS MB, CPU seconds user+sys); load before: $LOAD"
echo "$p"; echo "$d"; echo "$s"
awk -v p="$p" -v d="$d" -v s="$s" 'BEGIN { split(p,a," "); split(d,b," "); split(s,c," ");
  printf "paydesk/duckdb = %.2f   paydesk/sqlite3 = %.2f\n", a[2]/b[2], a[2]/c[2] }'
if [ "$PG" = 1 ]; then
  g=$(grep '^paydesk-pg ' "$OUT/results.txt" | best)
  echo "$g"
  awk -v p="$p" -v d="$d" -v g="$g" 'BEGIN { split(p,a," "); split(d,b," "); split(g,c," ");
    printf "paydesk-pg/paydesk-sqlite = %.2f   paydesk-pg/duckdb = %.2f\n", c[2]/a[2], c[2]/b[2] }'
  python3 -c "import json; r=json.load(open('$OUT/paydesk-pg.out')); print('paydesk-pg findings=%d' % len(r['findings']))" 2>/dev/null || true
fi
grep -h "findings" "$OUT"/duckdb.out "$OUT"/sqlite3.out || true
python3 -c "import json,sys; r=json.load(open('$OUT/paydesk.out')); print('paydesk findings=%d' % len(r['findings']))" 2>/dev/null || true

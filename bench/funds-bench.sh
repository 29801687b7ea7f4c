#!/usr/bin/env bash
# Fund-flow reconciliation benchmark: `paydesk recon funds` end to end on an
# Alipay 账务明细 of M movements (GBK zip: a payment and its 收费 row per
# trade, M/2 trades, 0.3% perturbed), against the day's kept trade bill and
# M/2 orders; and in the same run the same comparison by DuckDB
# (@duckdb/node-api, plain CSVs). Wall time and peak RSS of each, best of R.
# Usage: bench/funds-bench.sh [M] [R]       (M default 1000000, R default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
M=${1:-1000000}
R=${2:-3}
N=$((M / 2))
OUT=bench/out/funds-$M
mkdir -p "$OUT"
go build -o bench/out/paydesk .
go build -o bench/out/recongen ./bench/recongen
if [ ! -f "$OUT/funds.zip" ]; then bench/out/recongen -dir "$OUT" -n "$N" -funds; fi
(cd bench && [ -d node_modules/@duckdb/node-api ] || npm install --no-audit --no-fund --silent)
if [ ! -f "$OUT/fund-template.db" ]; then
  # The day's trade run keeps the trade bill the fund run expects bookings from.
  cp "$OUT/template.db" "$OUT/paydesk.db"; rm -rf "$OUT/bills"
  bench/out/paydesk --config "$OUT/paydesk.toml" recon run --channel alipay --date 2026-11-22 --bill "$OUT/bill.zip" > /dev/null
  cp "$OUT/paydesk.db" "$OUT/fund-template.db"
fi

source bench/measure.sh
best() { sort -k2 -n | head -1; }

: > "$OUT/results.txt"
for _ in $(seq "$R"); do
  cp "$OUT/fund-template.db" "$OUT/paydesk.db"
  measure paydesk bench/out/paydesk --config "$OUT/paydesk.toml" recon funds --channel alipay --date 2026-11-22 --bill "$OUT/funds.zip" --json >> "$OUT/results.txt"
  measure duckdb node bench/duckdb-funds.mjs "$OUT" >> "$OUT/results.txt"
done
p=$(grep ^paydesk "$OUT/results.txt" | best); d=$(grep ^duckdb "$OUT/results.txt" | best)
echo "M=$M movements ($N trades)  best of $R (wall seconds, peak RSS MB, CPU seconds)"
echo "$p"; echo "$d"
awk -v p="$p" -v d="$d" 'BEGIN { split(p,a," "); split(d,b," "); printf "paydesk/duckdb = %.2f (wall), %.2f (memory), %.2f (CPU)\n", a[2]/b[2], a[3]/b[3], a[4]/b[4] }'
grep -h "findings" "$OUT"/duckdb.out || true
python3 -c "import json; r=json.load(open('$OUT/paydesk.out')); print('paydesk findings=%d movements=%d' % (len(r['findings']), r['lines']))" 2>/dev/null || true

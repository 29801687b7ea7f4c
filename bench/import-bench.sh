#!/usr/bin/env bash
# Order import benchmark with a peer in the same run: `paydesk orders import`
# of N orders (CSV, the synthetic month of internal/benchdata) into a fresh
# store, against the sqlite3 CLI (native SQLite) loading the same file into
# the same empty store, with the same table, indexes and counts, the way a
# script would (.import into a scratch table, then one INSERT … SELECT with
# the conversions paydesk makes, in one transaction), and again as a bulk
# load would (sqlite3-bulk: the same with the named indexes dropped first
# and built again before the commit, as paydesk does). Both with time-prefixed
# and with random order numbers; wall time, peak RSS and CPU of each, and
# orders/s, best of R, with the ratio of each pair.
# Usage: bench/import-bench.sh [N] [R]      (N default 1000000, R default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
R=${2:-3}
OUT=bench/out/import-$N
mkdir -p "$OUT"
go build -o bench/out/paydesk .
go build -o bench/out/importgen ./bench/importgen
command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing: apt-get install sqlite3"; exit 1; }
if [ ! -f "$OUT/random.csv" ]; then bench/out/importgen -dir "$OUT" -n "$N"; fi
printf '[store]\npath = "paydesk.db"\n[operator]\nname = "bench"\nrole = "admin"\n' > "$OUT/paydesk.toml"
if [ ! -f "$OUT/empty.db" ]; then
  rm -f "$OUT/paydesk.db"*
  bench/out/paydesk --config "$OUT/paydesk.toml" orders list --json > /dev/null # makes the store, every migration applied
  sqlite3 "$OUT/paydesk.db" 'PRAGMA wal_checkpoint(TRUNCATE);' > /dev/null
  mv "$OUT/paydesk.db" "$OUT/empty.db"; rm -f "$OUT/paydesk.db"*
fi

# The peer: what paydesk's import does to a row, in SQL (yuan to fen, local
# time to Unix ms, CNY and an empty trade number as paydesk stores them).
cat > "$OUT/peer.sql" <<'SQL'
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -1048576;
PRAGMA temp_store = MEMORY;
.mode csv
BEGIN IMMEDIATE;
CREATE TEMP TABLE csv (out_trade_no TEXT, channel TEXT, amount TEXT, currency TEXT, subject TEXT, status TEXT,
  trade_no TEXT, paid_at TEXT, refunded TEXT, created_at TEXT);
.import --skip 1 FILE csv
INSERT INTO orders (out_trade_no, channel, amount, currency, subject, status, trade_no, paid_at, paid_via, refunded, created_at, updated_at)
SELECT out_trade_no, channel, CAST(round(amount * 100) AS INTEGER), coalesce(nullif(currency, ''), 'CNY'), subject, status,
  nullif(trade_no, ''),
  CASE WHEN paid_at = '' THEN NULL ELSE (unixepoch(paid_at) - 8 * 3600) * 1000 END,
  CASE WHEN status IN ('PAID', 'PARTIALLY_REFUNDED', 'REFUNDED') THEN 'import' END,
  CAST(round(coalesce(nullif(refunded, ''), '0') * 100) AS INTEGER),
  (unixepoch(created_at) - 8 * 3600) * 1000, unixepoch('now') * 1000
FROM csv ORDER BY rowid;
UPDATE order_counts SET n = n + (SELECT count(*) FROM orders o WHERE o.channel = order_counts.channel AND o.status = order_counts.status);
COMMIT;
SQL

# sqlite3-bulk: the peer with the named indexes of orders dropped before the
# insert and created again after it, in the same transaction.
{
  sed -n '1,/^INSERT INTO orders/p' "$OUT/peer.sql" | sed '$d'
  sqlite3 "$OUT/empty.db" "SELECT 'DROP INDEX ' || name || ';' FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL"
  sed -n '/^INSERT INTO orders/,/^FROM csv/p' "$OUT/peer.sql"
  sqlite3 "$OUT/empty.db" "SELECT sql || ';' FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL"
  sed -n '/^UPDATE order_counts/,$p' "$OUT/peer.sql"
} > "$OUT/peer-bulk.sql"

source bench/measure.sh
fresh() { rm -f "$OUT/paydesk.db"*; cp "$OUT/empty.db" "$OUT/paydesk.db"; sync; }
# What each import stored, but the time it stored it (updated_at).
stored() { sqlite3 "$OUT/paydesk.db" "SELECT count(*) || ' orders, ' || sum(amount) || ' fen, refunded ' || sum(refunded) ||
  ', times ' || sum(coalesce(paid_at, 0) + created_at) || ', text ' || sum(length(out_trade_no) + length(coalesce(trade_no, '')) + length(subject) + id) ||
  ', paid ' || count(paid_via) || ', counts ' || (SELECT group_concat(n) FROM order_counts) FROM orders"; }

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
: > "$OUT/results.txt"; : > "$OUT/checks.txt"
for _ in $(seq "$R"); do
  for kind in time-prefixed random; do
    fresh
    measure "paydesk-$kind" bench/out/paydesk --config "$OUT/paydesk.toml" orders import "$OUT/$kind.csv" >> "$OUT/results.txt"
    echo "paydesk-$kind: $(stored)" >> "$OUT/checks.txt"
    fresh
    sed "s|FILE|$OUT/$kind.csv|" "$OUT/peer.sql" > "$OUT/peer-$kind.sql"
    measure "sqlite3-$kind" sh -c "sqlite3 '$OUT/paydesk.db' < '$OUT/peer-$kind.sql'" >> "$OUT/results.txt"
    echo "sqlite3-$kind: $(stored)" >> "$OUT/checks.txt"
    fresh
    sed "s|FILE|$OUT/$kind.csv|" "$OUT/peer-bulk.sql" > "$OUT/peer-bulk-$kind.sql"
    measure "sqlite3-bulk-$kind" sh -c "sqlite3 '$OUT/paydesk.db' < '$OUT/peer-bulk-$kind.sql'" >> "$OUT/results.txt"
    echo "sqlite3-bulk-$kind: $(stored)" >> "$OUT/checks.txt"
    sqlite3 "$OUT/paydesk.db" "SELECT count(*) || ' indexes' FROM sqlite_master WHERE tbl_name = 'orders' AND type = 'index'" | sed "s/^/sqlite3-bulk-$kind: /" >> "$OUT/checks.txt"
  done
done
echo "N=$N  best of $R (wall seconds, peak RSS MB, CPU seconds user+sys); load before: $LOAD"
for kind in time-prefixed random; do
  p=$(grep "^paydesk-$kind " "$OUT/results.txt" | sort -k2 -n | head -1)
  s=$(grep "^sqlite3-$kind " "$OUT/results.txt" | sort -k2 -n | head -1)
  b=$(grep "^sqlite3-bulk-$kind " "$OUT/results.txt" | sort -k2 -n | head -1)
  echo "$p"; echo "$s"; echo "$b"
  awk -v p="$p" -v s="$s" -v b="$b" -v n="$N" -v k="$kind" 'BEGIN { split(p,x," "); split(s,y," "); split(b,z," ");
    printf "%s: paydesk %.0f orders/s, sqlite3 CLI %.0f/s, sqlite3 bulk %.0f/s; paydesk/sqlite3 = %.2f, paydesk/sqlite3-bulk = %.2f\n",
      k, n/x[2], n/y[2], n/z[2], x[2]/y[2], x[2]/z[2] }'
done
sort -u "$OUT/checks.txt"

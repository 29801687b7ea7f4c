#!/usr/bin/env bash
# A/B of `paydesk recon run` between two source trees, alternated, on the
# data recon-bench.sh made for N (each run on a fresh copy of its store,
# after a sync, under /usr/bin/time):
#   bench/ab-recon.sh OLD_TREE [NEW_TREE] [ROUNDS]
# N (default 1000000) picks the data. A tree whose build knows fewer
# migrations than the data's store gets a copy of it stamped with the
# schema version it knows (SCHEMA_A=11, say): the migrations since must not
# matter to reconciliation.
set -euo pipefail
cd "$(dirname "$0")/.."
A=$(cd "$1" && pwd); B=$(cd "${2:-.}" && pwd); ROUNDS=${3:-4}
N=${N:-1000000}; D=bench/out/recon-$N
[ -f "$D/template.db" ] || { echo "no data in $D: run bench/recon-bench.sh $N first"; exit 1; }
mkdir -p bench/out/ab-recon
for s in a b; do
  tree=$A; [ $s = b ] && tree=$B
  (cd "$tree" && go build -o "$OLDPWD/bench/out/ab-recon/paydesk-$s" .)
  tpl=$D/template.db
  v=$( [ $s = a ] && echo "${SCHEMA_A:-}" || echo "${SCHEMA_B:-}")
  if [ -n "$v" ]; then
    cp "$D/template.db" "$D/template-v$v.db"
    sqlite3 "$D/template-v$v.db" "PRAGMA user_version = $v"
    tpl=$D/template-v$v.db
  fi
  echo "$tpl" > "bench/out/ab-recon/template-$s"
done
for r in $(seq 1 "$ROUNDS"); do
  for s in a b; do
    cp "$(cat bench/out/ab-recon/template-$s)" "$D/paydesk.db"; rm -f "$D/paydesk.db-wal" "$D/paydesk.db-shm"; rm -rf "$D/bills"; sync
    /usr/bin/time -f "%e %M %U %S" -o bench/out/ab-recon/time.txt bench/out/ab-recon/paydesk-$s --config "$D/paydesk.toml" \
      recon run --channel alipay --date 2026-11-22 --bill "$D/bill.zip" --json > bench/out/ab-recon/$s.out
    read -r secs kb u sy < bench/out/ab-recon/time.txt
    echo "$s round $r: ${secs} s, $((kb / 1024)) MB, CPU $(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }') s"
  done
done

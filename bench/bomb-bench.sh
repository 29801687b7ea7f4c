#!/usr/bin/env bash
# Compressed-bill bombs (issue 12): an Alipay zip and a WeChat Pay gzip of
# about 1.5 MB inflating to 400 MB, and about 4.7 MB inflating to 1.2 GB, of
# one repeated real row, reconciled with `paydesk recon run --bill` against
# the 1M-order workspace of recon-bench.sh. Each must be refused (exit 1,
# "repeats a row") within 10 s with a peak RSS of at most 600 MB, measured
# with /usr/bin/time; in the same run the 1M-line real-format bill must still
# reconcile. PAYDESK=path runs another build (say, main's) the same way.
# Usage: bench/bomb-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=1000000
OUT=bench/out/recon-$N
BOMBS=bench/out/bombs
go build -o bench/out/paydesk .
go build -o bench/out/recongen ./bench/recongen
go build -o bench/out/bombgen ./bench/bombgen
PAYDESK=${PAYDESK:-bench/out/paydesk}
if [ ! -f "$OUT/bill.zip" ]; then bench/out/recongen -dir "$OUT" -n "$N"; fi
if [ ! -f "$BOMBS/wechat-1200m.txt.gz" ]; then bench/out/bombgen -dir "$BOMBS"; fi

fail=0
run() { # name, want exit, channel, bill
  local name=$1 want=$2 ch=$3 bill=$4
  cp "$OUT/template.db" "$OUT/paydesk.db"; rm -rf "$OUT/bills"
  set +e
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$PAYDESK" --config "$OUT/paydesk.toml" \
    recon run --channel "$ch" --date 2026-11-22 --bill "$bill" --json > "$OUT/$name.out" 2> "$OUT/$name.err"
  local code=$?
  set -e
  local secs kb
  read -r secs kb < <(tail -1 "$OUT/time.txt")
  local mb=$((kb / 1024)) verdict=ok
  if [ "$code" != "$want" ]; then verdict="exit $code, want $want"; fi
  if [ "$want" = 1 ]; then
    grep -q "repeats a row" "$OUT/$name.err" || verdict="not refused as a repeated row"
    awk -v s="$secs" 'BEGIN { exit !(s <= 10) }' || verdict="slower than 10 s"
    [ "$mb" -le 600 ] || verdict="peak RSS over 600 MB"
  fi
  [ "$verdict" = ok ] || fail=1
  printf "%-22s %6s %5s s %6s MB  exit %s  %s\n" "$name" "$(du -h "$bill" | cut -f1)" "$secs" "$mb" "$code" "$verdict"
}
echo "bill                     size  seconds  peak RSS"
run alipay-400m.zip     1 alipay "$BOMBS/alipay-400m.zip"
run alipay-1200m.zip    1 alipay "$BOMBS/alipay-1200m.zip"
run wechat-400m.txt.gz  1 wechat "$BOMBS/wechat-400m.txt.gz"
run wechat-1200m.txt.gz 1 wechat "$BOMBS/wechat-1200m.txt.gz"
run real-1M-lines.zip   0 alipay "$OUT/bill.zip"
head -c 300 "$OUT/alipay-1200m.zip.err"; echo
exit $fail

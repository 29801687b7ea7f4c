# Sourced by the benchmark scripts (OUT must be set): measure NAME COMMAND...
# runs COMMAND under /usr/bin/time with its output in $OUT/NAME.out and prints
# "NAME seconds peak_rss_mb cpu_seconds(user+sys)"; a failing command shows
# its output and stops the script.
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$OUT/time.txt" "$@" > "$OUT/$name.out" 2>&1 || { cat "$OUT/$name.out"; exit 1; }
  read -r secs kb user sys < "$OUT/time.txt"
  echo "$name $secs $((kb / 1024)) $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')"
}

#!/usr/bin/env bash
# Measures how fast a report.html opens: its size, and the median over N headless-Chromium renders (load, layout,
# paint, screenshot) of the report less the median for an empty page rendered the same way (the browser's start).
#
#   tools/measure-report.sh REPORT.html [N]      (N: renders of each page, default 7; needs Debian's chromium)
set -euo pipefail
if [[ $# -lt 1 ]]; then sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; fi
report="$(realpath "$1")"; runs="${2:-7}"
chromium="$(command -v chromium || command -v chromium-browser || command -v google-chrome)" || {
  echo "measure-report: Chromium is not installed (Debian: apt-get install chromium)" >&2; exit 2; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
printf '<!DOCTYPE html><html><body></body></html>' > "$work/empty.html"

median_ms() {   # the median wall time, in ms, of rendering page $1 $runs times
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$chromium" --headless --no-sandbox --disable-gpu --window-size=1400,900 --virtual-time-budget=1000 \
      --screenshot="$work/shot.png" "file://$1" >/dev/null 2>&1
    echo $(( ($(date +%s%N) - start) / 1000000 ))
  done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

empty=$(median_ms "$work/empty.html")
full=$(median_ms "$report")
bytes=$(stat -c %s "$report")
echo "$report: $(awk -v b="$bytes" 'BEGIN { printf "%.2f MB", b / 1e6 }'), $(grep -o '<svg' "$report" | wc -l) SVGs; " \
     "render $full ms against $empty ms for an empty page (median of $runs): $(( full - empty )) ms to open"

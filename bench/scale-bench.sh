#!/usr/bin/env bash
# Scale benchmark of pixelk6 (issue 14): VUS (default 10,000) VUs of `http.get('/health');
# sleep(1)` against pixelsim on loopback for DURATION, and the peak RSS of pixelk6 (VmHWM of
# /proc/PID/status) against a 1-VU run of the same script. Budget: under 1 GB in all (k6 needs
# about 228 KiB per VU, 2.2 GB at 10,000 VUs). Run via `make bench`, or alone:
#
#   VUS=10000 DURATION=30s bash bench/scale-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VUS=${VUS:-10000}
DURATION=${DURATION:-30s}
BIN=${BIN:-bin}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -x "$BIN/pixelk6" ] && [ -x "$BIN/pixelsim" ] || make build >/dev/null

# Every VU holds a keep-alive connection: VUS file descriptors in each process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((VUS + 200)) ]; then
  echo "scale-bench: open-files limit $(ulimit -n) is below $VUS VUs + 200; raise it (ulimit -n)" >&2
  exit 1
fi

"$BIN/pixelsim" --addr 127.0.0.1:0 --max-life 30m --latency 0 --capacity 0 >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
SIM=
for _ in $(seq 1 100); do
  SIM=$(sed -n 's/^pixelsim listening on //p' "$WORK/sim.log" | head -n 1)
  [ -n "$SIM" ] && break
  sleep 0.1
done
[ -n "$SIM" ] || { echo "pixelsim did not start" >&2; cat "$WORK/sim.log" >&2; exit 1; }

cat >"$WORK/sleep.js" <<'JS'
import http from 'k6/http';
import { sleep } from 'k6';
export default function () { http.get(`${__ENV.BASE_URL}/health`); sleep(1); }
JS

# run VUS DURATION — runs the script, polls VmHWM until pixelk6 exits; prints
# "PEAK_KIB WALL_SECONDS EXIT_CODE", leaves the summary in $WORK/sum-VUS.json.
run() {
  local vus=$1 dur=$2 peak=0 v t0 pid rc=0
  t0=$(date +%s.%N)
  "$BIN/pixelk6" run -q --no-color --vus "$vus" --duration "$dur" -e BASE_URL="$SIM" \
    --summary-export "$WORK/sum-$vus.json" "$WORK/sleep.js" >"$WORK/run-$vus.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
    sleep 0.2
  done
  wait "$pid" || rc=$?
  echo "$peak $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') $rc"
}
stat() { # FILE METRIC KEY — a value from a --summary-export file
  sed -n "/\"$2\": {/,/}/p" "$1" | sed -n "s/.*\"$3\": \([0-9.e+-]*\).*/\1/p" | head -n 1
}

echo "== scale: http.get('/health'); sleep(1) at $VUS VUs, $DURATION (pixelsim --latency 0), load average $(cut -d' ' -f1-3 /proc/loadavg)"
read -r P1 W1 RC1 < <(run 1 5s)
read -r PN WN RCN < <(run "$VUS" "$DURATION")
[ "$RC1" = 0 ] && [ "$RCN" = 0 ] || { echo "  pixelk6 exited $RC1 (1 VU) / $RCN ($VUS VUs):" >&2; tail -n 20 "$WORK/run-$VUS.log" >&2; exit 1; }
RATE=$(stat "$WORK/sum-$VUS.json" iterations rate)
FAILED=$(stat "$WORK/sum-$VUS.json" http_req_failed passes)
echo "  peak RSS: 1 VU $P1 KiB; $VUS VUs $PN KiB = $(awk -v a="$PN" 'BEGIN{printf "%.0f", a/1024}') MiB (budget < 1 GB; k6: about 2.2 GB)"
echo "  $(awk -v a="$P1" -v b="$PN" -v n="$VUS" 'BEGIN{printf "%.1f", (b-a)/(n-1)}') KiB per VU above the 1-VU baseline, $(awk -v b="$PN" -v n="$VUS" 'BEGIN{printf "%.1f", b/n}') KiB per VU in all (k6: about 228)"
echo "  wall time $WN s for $DURATION (the rest is initialising and closing $VUS VUs); $(awk -v r="$RATE" 'BEGIN{printf "%.0f", r}') iterations/s (ideal: $VUS/s less the request time); ${FAILED:-0} failed requests"
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# Whole-program benchmarks of pixelk6 against pixelsim on loopback, side by side with wrk in
# the same run (issue 4 and 5 budgets). Prints a table of medians; run via `make bench`.
#
#   ROUNDS=3 DURATION=15s bash bench/runner-bench.sh
#   PARTS=throughput bash bench/runner-bench.sh              # only the throughput rounds
#   BASELINE=/path/to/old/bin bash bench/runner-bench.sh   # also runs that build's pixelk6 in
#                                                          # each throughput round, alternating
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15s}
BIN=${BIN:-bin}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -x "$BIN/pixelk6" ] && [ -x "$BIN/pixelsim" ] || make build >/dev/null
if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package) ..." >&2
  (apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }) ||
    { echo "wrk is not installable here; install it and rerun" >&2; exit 1; }
fi

# start_sim FLAGS... — starts pixelsim on a free port, sets SIM (base URL) and SIM_PID.
start_sim() {
  "$BIN/pixelsim" --addr 127.0.0.1:0 --max-life 30m "$@" >"$WORK/sim.log" 2>&1 &
  SIM_PID=$!
  SIM=
  for _ in $(seq 1 100); do
    SIM=$(sed -n 's/^pixelsim listening on //p' "$WORK/sim.log" | head -n 1)
    [ -n "$SIM" ] && return 0
    sleep 0.1
  done
  echo "pixelsim did not start" >&2; cat "$WORK/sim.log" >&2; exit 1
}
stop_sim() { kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; }

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }

# k6_rate FILE — http_reqs rate from a --summary-export file.
k6_stat() { # FILE METRIC KEY
  sed -n "/\"$2\": {/,/}/p" "$1" | sed -n "s/.*\"$3\": \([0-9.e+-]*\).*/\1/p" | head -n 1
}

cat >"$WORK/health.js" <<'JS'
import http from 'k6/http';
export default function () { http.get(`${__ENV.BASE_URL}/health`); }
JS
cat >"$WORK/sleep.js" <<'JS'
import http from 'k6/http';
import { sleep } from 'k6';
export default function () { http.get(`${__ENV.BASE_URL}/health`); sleep(1); }
JS
cat >"$WORK/stream.js" <<'JS'
import pixel from 'k6/x/pixel';
export default function () {
  pixel.stream(__ENV.WS_URL, { audio: { frames: 50, frameMs: 20, sampleRate: 16000 }, start: false,
    connectTimeout: '20s', ackTimeout: '20s', sessionTimeout: '60s' });
}
JS

# peak_rss PID — polls VmHWM until the process exits; prints KiB.
peak_rss() {
  local pid=$1 peak=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
    sleep 0.2
  done
  echo "$peak"
}
cpu_seconds() { # PID — user+sys CPU seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$1/stat"
}

# The influxdb output writes to influxsink, a stand-in server that discards the writes, so
# that the figure is pixelk6's cost of the output, not InfluxDB's on the same two cores.
go build -o "$WORK/influxsink" ./bench/influxsink
"$WORK/influxsink" >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
SINK=
for _ in $(seq 1 100); do
  SINK=$(sed -n 's/^influxsink listening on //p' "$WORK/sink.log" | head -n 1)
  [ -n "$SINK" ] && break
  sleep 0.1
done
[ -n "$SINK" ] || { echo "influxsink did not start" >&2; exit 1; }

echo "== throughput: no-sleep http.get('/health'), 20 VUs, $DURATION; wrk -t2 -c20 (pixelsim --latency 0)"
start_sim --latency 0 --capacity 0
for i in $(seq 1 "$ROUNDS"); do
  wrk -t2 -c20 -d"$DURATION" "$SIM/health" | awk '/Requests\/sec/ {print $2}' >>"$WORK/wrk.txt"
  "$BIN/pixelk6" run -q --no-color --vus 20 --duration "$DURATION" -e BASE_URL="$SIM" \
    --summary-export "$WORK/plain.json" "$WORK/health.js" >/dev/null 2>&1 || true
  k6_stat "$WORK/plain.json" http_reqs rate >>"$WORK/plain.txt"
  "$BIN/pixelk6" run -q --no-color --vus 20 --duration "$DURATION" -e BASE_URL="$SIM" \
    --out json="$WORK/out.json" --summary-export "$WORK/json.json" "$WORK/health.js" >/dev/null 2>&1 || true
  k6_stat "$WORK/json.json" http_reqs rate >>"$WORK/json.txt"
  rm -f "$WORK/out.json"
  "$BIN/pixelk6" run -q --no-color --vus 20 --duration "$DURATION" -e BASE_URL="$SIM" \
    --out influxdb="$SINK/k6" --summary-export "$WORK/influx.json" "$WORK/health.js" >/dev/null 2>"$WORK/influx.err" || true
  k6_stat "$WORK/influx.json" http_reqs rate >>"$WORK/influx.txt"
  if grep -q dropped "$WORK/influx.err"; then echo "  round $i: the influxdb output dropped points:" >&2; cat "$WORK/influx.err" >&2; fi
  echo "  round $i: wrk $(tail -n1 "$WORK/wrk.txt") req/s, pixelk6 $(tail -n1 "$WORK/plain.txt") req/s, with --out json $(tail -n1 "$WORK/json.txt") req/s, with --out influxdb $(tail -n1 "$WORK/influx.txt") req/s"
  if [ -n "${BASELINE:-}" ]; then
    "$BASELINE/pixelk6" run -q --no-color --vus 20 --duration "$DURATION" -e BASE_URL="$SIM" \
      --summary-export "$WORK/bplain.json" "$WORK/health.js" >/dev/null 2>&1 || true
    k6_stat "$WORK/bplain.json" http_reqs rate >>"$WORK/bplain.txt"
    "$BASELINE/pixelk6" run -q --no-color --vus 20 --duration "$DURATION" -e BASE_URL="$SIM" \
      --out json="$WORK/out.json" --summary-export "$WORK/bjson.json" "$WORK/health.js" >/dev/null 2>&1 || true
    k6_stat "$WORK/bjson.json" http_reqs rate >>"$WORK/bjson.txt"
    rm -f "$WORK/out.json"
    echo "  round $i: baseline pixelk6 $(tail -n1 "$WORK/bplain.txt") req/s, with --out json $(tail -n1 "$WORK/bjson.txt") req/s"
  fi
done
WRK=$(median <"$WORK/wrk.txt"); PLAIN=$(median <"$WORK/plain.txt"); JSON=$(median <"$WORK/json.txt")
echo "  median: wrk $WRK req/s; pixelk6 $PLAIN req/s = $(awk -v a="$PLAIN" -v b="$WRK" 'BEGIN{printf "%.0f", 100*a/b}')% of wrk (budget >= 50%; k6: 32%)"
echo "  median: pixelk6 --out json $JSON req/s = $(awk -v a="$JSON" -v b="$PLAIN" 'BEGIN{printf "%.0f", 100*a/b}')% of its plain throughput (budget >= 90%; k6: 49%)"
INFLUX=$(median <"$WORK/influx.txt")
echo "  median: pixelk6 --out influxdb $INFLUX req/s = $(awk -v a="$INFLUX" -v b="$PLAIN" 'BEGIN{printf "%.0f", 100*a/b}')% of its plain throughput (budget >= 85%; writes to influxsink, which discards them)"
kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; sed -n 's/^influxsink: /  influxsink took /p' "$WORK/sink.log"
if [ -n "${BASELINE:-}" ]; then
  BPLAIN=$(median <"$WORK/bplain.txt"); BJSON=$(median <"$WORK/bjson.txt")
  echo "  median: baseline pixelk6 $BPLAIN req/s (this build: $(awk -v a="$PLAIN" -v b="$BPLAIN" 'BEGIN{printf "%.0f", 100*a/b}')% of it); baseline --out json $BJSON req/s = $(awk -v a="$BJSON" -v b="$BPLAIN" 'BEGIN{printf "%.0f", 100*a/b}')% of its plain"
fi
stop_sim

[ "${PARTS:-all}" = throughput ] && exit 0

echo "== memory: http.get; sleep(1) — peak RSS at 1 VU and at 1000 VUs, 20s"
start_sim --latency 0
for vus in 1 1000; do
  "$BIN/pixelk6" run -q --no-color --vus "$vus" --duration 20s -e BASE_URL="$SIM" --summary-mode disabled "$WORK/sleep.js" >/dev/null 2>&1 &
  echo "$vus $(peak_rss $!)" >>"$WORK/rss.txt"
done
stop_sim
RSS1=$(awk '$1==1 {print $2}' "$WORK/rss.txt"); RSS1000=$(awk '$1==1000 {print $2}' "$WORK/rss.txt")
echo "  peak RSS: 1 VU $RSS1 KiB, 1000 VUs $RSS1000 KiB: $(awk -v a="$RSS1" -v b="$RSS1000" 'BEGIN{printf "%.0f", (b-a)/999}') KiB per VU above the 1-VU baseline (budget <= 120; k6: 230)"

echo "== latency accuracy: fixed 50 ms server delay on POST infer, 200 VUs / 200 connections, 15s"
cat >"$WORK/infer.js" <<'JS'
import http from 'k6/http';
export default function () {
  http.post(`${__ENV.BASE_URL}/api/ai/pixel/infer`, '{"prompt":"hello"}', { headers: { 'Content-Type': 'application/json' } });
}
JS
cat >"$WORK/infer.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"prompt":"hello"}'
wrk.headers["Content-Type"] = "application/json"
LUA
start_sim --latency fixed:50ms --capacity 0
"$BIN/pixelk6" run -q --no-color --vus 200 --duration 15s -e BASE_URL="$SIM" \
  --summary-export "$WORK/lat.json" "$WORK/infer.js" >/dev/null 2>&1 || true
WRKMED=$(wrk -t2 -c200 -d15s --latency -s "$WORK/infer.lua" "$SIM/api/ai/pixel/infer" |
  awk '$1=="50%" {v=$2; if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}')
stop_sim
MED=$(k6_stat "$WORK/lat.json" http_req_duration med)
echo "  median http_req_duration $MED ms (budget: within 1 ms of 50 ms); wrk's median against the same endpoint: $WRKMED ms"

echo "== streaming: pixel.stream, 50 chunks x 640 B every 20 ms per session"
for sessions in 200 1000; do
  start_sim --latency lognormal:10ms,40ms --capacity 0
  WS="ws://${SIM#http://}/ws/pixel-multimodal"
  "$BIN/pixelk6" run -q --no-color --vus "$sessions" --duration 30s -e WS_URL="$WS" \
    --summary-export "$WORK/ws$sessions.json" "$WORK/stream.js" >/dev/null 2>"$WORK/ws$sessions.err" &
  K6=$!
  sleep 5; c0=$(cpu_seconds $K6); sleep 20; c1=$(cpu_seconds $K6)
  wait $K6 || true
  stop_sim
  RATE=$(k6_stat "$WORK/ws$sessions.json" chunks_sent rate)
  P95=$(k6_stat "$WORK/ws$sessions.json" chunk_latency 'p(95)')
  echo "  $sessions sessions: chunk rate $RATE/s = $(awk -v a="$RATE" -v s="$sessions" 'BEGIN{printf "%.0f", 100*a/(s*50)}')% of intended $((sessions * 50))/s; chunk p95 $P95 ms; runner CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", (b-a)/20}') cores"
done

echo "== arrival rate: constant-arrival-rate 2,000 iterations/s of http.get('/health'), $DURATION (pixelsim --latency 0)"
cat >"$WORK/arrival.js" <<JS
import http from 'k6/http';
export const options = { scenarios: { car: { executor: 'constant-arrival-rate', rate: 2000, duration: '$DURATION',
  preAllocatedVUs: 50, maxVUs: 400 } } };
export default function () { http.get(\`\${__ENV.BASE_URL}/health\`); }
JS
start_sim --latency 0 --capacity 0
"$BIN/pixelk6" run -q --no-color -e BASE_URL="$SIM" --summary-export "$WORK/arrival.json" "$WORK/arrival.js" >/dev/null 2>&1 || true
stop_sim
ARATE=$(k6_stat "$WORK/arrival.json" iterations rate); ADROP=$(k6_stat "$WORK/arrival.json" dropped_iterations count)
echo "  achieved $ARATE iterations/s = $(awk -v a="$ARATE" 'BEGIN{printf "%.2f", 100*a/2000}')% of 2000/s; dropped ${ADROP:-0} (budget: within 1%)"
echo "  scheduler start-time error against the schedule (engine benchmark, fake VUs; budget p99 < 1 ms):"
go test -run '^$' -bench ArrivalRateStartError -benchtime 1x ./engine/ | sed -n 's/^Benchmark/    /p'
echo "  the same with real script VUs through the command line, and while maxVUs are initialised mid-test (growing):"
go test -run '^$' -bench ArrivalRateScript -benchtime 1x ./cli/ | sed -n 's/^Benchmark/    /p'

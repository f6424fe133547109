#!/usr/bin/env bash
# k6/websockets streaming throughput (issue 13): SESSIONS VUs with one socket each, sending
# 50 chunks of 640 B every 20 ms to pixelsim's multimodal stream (then "end", the inference,
# close), back to back for DURATION. The intended rate is SESSIONS x 50 chunks/s; the
# achieved rate is the script's chunks_sent counter over the run. pixel.stream (native, no
# JS per chunk) runs the same sessions in the same conditions, as the reference. Prints one
# line per round and tool; run via `make bench`.
#
#   SESSIONS=1000 DURATION=20s ROUNDS=1 bash bench/websockets-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${SESSIONS:-1000}
DURATION=${DURATION:-20s}
ROUNDS=${ROUNDS:-1}
BIN=${BIN:-bin}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

[ -x "$BIN/pixelk6" ] && [ -x "$BIN/pixelsim" ] || make build >/dev/null

cat >"$WORK/websockets.js" <<'JS'
import { WebSocket } from 'k6/websockets';
import { Counter, Trend } from 'k6/metrics';

const chunksSent = new Counter('chunks_sent');
const chunkLatency = new Trend('chunk_latency', true);
const audio = 'A'.repeat(640); // base64 of silence

export default function () {
  const ws = new WebSocket(__ENV.WS_URL);
  const sentAt = {};
  let seq = 0;
  let ticker;
  ws.onopen = () => {
    ticker = setInterval(() => {
      seq++;
      sentAt[seq] = Date.now();
      ws.send(`{"type":"chunk","seq":${seq},"modality":"audio","data":"${audio}"}`);
      chunksSent.add(1);
      if (seq === 50) {
        clearInterval(ticker);
        ws.send('{"type":"end"}');
      }
    }, 20);
  };
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'chunk_ack') {
      chunkLatency.add(Date.now() - sentAt[msg.client_seq]);
    } else if (msg.type === 'inference') {
      ws.close();
    }
  };
  ws.onerror = () => clearInterval(ticker);
}
JS
cat >"$WORK/pixel.js" <<'JS'
import pixel from 'k6/x/pixel';
export default function () {
  pixel.stream(__ENV.WS_URL, { audio: { frames: 50, frameMs: 20, sampleRate: 16000 }, start: false,
    connectTimeout: '20s', ackTimeout: '20s', sessionTimeout: '60s' });
}
JS

k6_stat() { # FILE METRIC KEY
  sed -n "/\"$2\": {/,/}/p" "$1" | sed -n "s/.*\"$3\": \([0-9.e+-]*\).*/\1/p" | head -n 1
}
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$1/stat"; }

echo "== streaming: $SESSIONS VUs x 1 socket, 50 chunks x 640 B every 20 ms, $DURATION (intended $((SESSIONS * 50)) chunks/s); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  for tool in websockets pixel; do
    "$BIN/pixelsim" --addr 127.0.0.1:0 --max-life 30m --latency lognormal:10ms,40ms --capacity 0 >"$WORK/sim.log" 2>&1 &
    SIM_PID=$!
    SIM=
    for _ in $(seq 1 100); do
      SIM=$(sed -n 's/^pixelsim listening on //p' "$WORK/sim.log" | head -n 1)
      [ -n "$SIM" ] && break
      sleep 0.1
    done
    [ -n "$SIM" ] || { echo "pixelsim did not start" >&2; cat "$WORK/sim.log" >&2; exit 1; }
    "$BIN/pixelk6" run -q --no-color --vus "$SESSIONS" --duration "$DURATION" -e WS_URL="ws://${SIM#http://}/ws/pixel-multimodal" \
      --summary-export "$WORK/$tool.json" "$WORK/$tool.js" >/dev/null 2>"$WORK/$tool.err" &
    K6=$!
    sleep 0.5
    c0=$(cpu_seconds $K6)
    CPU=$c0
    while kill -0 $K6 2>/dev/null; do CPU=$(cpu_seconds $K6 2>/dev/null || echo "$CPU"); sleep 0.5; done
    wait $K6 || true
    kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true
    RATE=$(k6_stat "$WORK/$tool.json" chunks_sent rate)
    COUNT=$(k6_stat "$WORK/$tool.json" chunks_sent count)
    P95=$(k6_stat "$WORK/$tool.json" chunk_latency 'p(95)')
    label=$([ "$tool" = websockets ] && echo "k6/websockets (JS per chunk)" || echo "pixel.stream (reference) ")
    echo "  round $round $label: $RATE chunks/s = $(awk -v a="$RATE" -v s="$SESSIONS" 'BEGIN{printf "%.1f", 100*a/(s*50)}')% of intended; chunk p95 $P95 ms; runner CPU $(awk -v c="$CPU" -v n="$COUNT" 'BEGIN{printf "%.0f", 1e6*c/n}') us per chunk"
  done
done

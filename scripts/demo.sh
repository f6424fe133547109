#!/usr/bin/env bash
# make demo: start pixelsim on loopback, run a short REST test and a short streaming test
# through pixelk6, then k6verdict with the user guide's success criteria. Exit 0 when both
# verdicts pass. Output files land in out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-bin}
OUT=${OUT:-out/demo}
REST_SCALE=${REST_SCALE:-0.05}   # 480 s profile → 24 s
WS_SCALE=${WS_SCALE:-0.05}       # 480 s profile → 24 s
mkdir -p "$OUT"
rm -f "$OUT"/*

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "starting pixelsim on a free loopback port"
"$BIN/pixelsim" --addr 127.0.0.1:0 --max-life 10m >"$OUT/pixelsim.log" 2>&1 &
SIM_PID=$!
trap 'kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true' EXIT
BASE=
for _ in $(seq 1 100); do
  BASE=$(sed -n 's/^pixelsim listening on //p' "$OUT/pixelsim.log" | head -n 1)
  [ -n "$BASE" ] && break
  kill -0 "$SIM_PID" 2>/dev/null || { cat "$OUT/pixelsim.log"; echo "pixelsim did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$BASE" ] || { echo "pixelsim did not report its address" >&2; exit 1; }
WS_BASE="ws://${BASE#http://}"
echo "pixelsim: $BASE"

step "REST inference load test (k6-rest-inference-load.js, ${REST_SCALE}× the guide's profile)"
rc=0
"$BIN/pixelk6" run --no-color \
  -e API_URL="$BASE" -e DURATION_SCALE="$REST_SCALE" -e THINK_TIME=0.05 \
  --out json="$OUT/rest.json" --out csv="$OUT/rest.csv" \
  scripts/k6-rest-inference-load.js || rc=$?
echo "pixelk6 exit code: $rc"

step "WebSocket streaming load test (k6-websocket-streaming-load.js, ${WS_SCALE}× the guide's profile: up to 1000 connections, 0.5 s of audio per session, 2 s think time)"
rc=0
"$BIN/pixelk6" run --no-color \
  -e WS_URL="$WS_BASE/ws/pixel-multimodal" -e DURATION_SCALE="$WS_SCALE" \
  -e AUDIO_FRAMES=25 -e THINK_TIME=2 \
  --out json="$OUT/ws.json.gz" \
  scripts/k6-websocket-streaming-load.js || rc=$?
echo "pixelk6 exit code: $rc"

step "pixelsim's own counts (ground truth)"
curl -fsS "$BASE/health" || true
echo

verdict=0
step "k6verdict --profile rest $OUT/rest.json"
"$BIN/k6verdict" --profile rest --junit "$OUT/rest-junit.xml" --markdown "$OUT/rest.md" "$OUT/rest.json" || verdict=$?
step "k6verdict --profile websocket $OUT/ws.json.gz"
"$BIN/k6verdict" --profile websocket --junit "$OUT/ws-junit.xml" --markdown "$OUT/ws.md" "$OUT/ws.json.gz" || { r=$?; [ "$verdict" -ne 0 ] || verdict=$r; }

step "files"
ls -l "$OUT"
if [ "$verdict" -eq 0 ]; then
  echo "demo: both verdicts PASS"
else
  echo "demo: a verdict did not pass (k6verdict exit code $verdict)"
fi
exit "$verdict"

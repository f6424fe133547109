#!/usr/bin/env bash
# pixelsim-wrk.sh — is pixelsim ever the bottleneck? Measures, side by side with wrk,
# the request rate of a minimal net/http hello-world server (bench/hello) and of pixelsim
# with model latency 0 on GET /health and POST /api/ai/pixel/infer, alternating the
# targets over several rounds, and prints the median req/s and the ratios to hello.
#
# Usage: bench/pixelsim-wrk.sh            (from anywhere inside the repository)
# Environment (all optional):
#   ROUNDS=3  DURATION=3s  THREADS=2  CONNECTIONS=20
#   MIN_RATIO=0.6   exit 1 when a pixelsim endpoint is below this fraction of hello
#                   (0 disables the check)
# Both servers listen on 127.0.0.1 free ports and are stopped on exit. wrk is installed
# with apt-get when missing.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-20}
MIN_RATIO=${MIN_RATIO:-0.6}

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk not found; installing it with apt-get" >&2
	apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

echo "building pixelsim and hello" >&2
(cd "$root" && go build -o "$tmp/pixelsim" ./cmd/pixelsim && go build -o "$tmp/hello" ./bench/hello)

# start NAME CMD...: runs CMD in the background (in this shell, so its pid is recorded
# for cleanup) and sets $url from the first URL on its stdout.
start() {
	local name=$1
	shift
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pids+=("$!")
	url=""
	for _ in $(seq 100); do
		url=$(grep -o 'http://[0-9.:]*' "$tmp/$name.out" 2>/dev/null | head -1 || true)
		[ -n "$url" ] && return 0
		sleep 0.05
	done
	echo "$name did not start:" >&2
	cat "$tmp/$name.err" >&2
	return 1
}

start hello "$tmp/hello" --addr 127.0.0.1:0
hello_url=$url
start pixelsim "$tmp/pixelsim" --addr 127.0.0.1:0 --latency 0
sim_url=$url
echo "hello on $hello_url, pixelsim on $sim_url (model latency 0)" >&2

cat >"$tmp/infer.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"prompt":"I have been feeling really anxious lately","user_id":"vu-1","session_id":"s-1-1"}'
wrk.headers["Content-Type"] = "application/json"
LUA

# measure NAME URL [wrk args...]: one wrk run; appends req/s to $tmp/NAME.rps.
measure() {
	local name=$1 url=$2
	shift 2
	local out
	out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" "$@" "$url")
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "$name: wrk saw error responses:" >&2
		echo "$out" >&2
		exit 1
	fi
	local rps
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	echo "$rps" >>"$tmp/$name.rps"
	printf '  %-8s %12.0f req/s\n' "$name" "$rps" >&2
}

median() { sort -g "$1" | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

for round in $(seq "$ROUNDS"); do
	echo "round $round/$ROUNDS (wrk -t$THREADS -c$CONNECTIONS -d$DURATION)" >&2
	measure hello "$hello_url/"
	measure health "$sim_url/health"
	measure infer "$sim_url/api/ai/pixel/infer" -s "$tmp/infer.lua"
done

hello=$(median "$tmp/hello.rps")
status=0
printf '\n%-28s %12s %8s\n' "target (median of $ROUNDS)" "req/s" "ratio"
printf '%-28s %12.0f %8s\n' "hello (net/http baseline)" "$hello" "1.00"
for name in health infer; do
	rps=$(median "$tmp/$name.rps")
	ratio=$(awk -v a="$rps" -v b="$hello" 'BEGIN {printf "%.2f", a/b}')
	label="pixelsim /$name"
	[ "$name" = infer ] && label="pixelsim POST infer"
	printf '%-28s %12.0f %8s\n' "$label" "$rps" "$ratio"
	if awk -v r="$ratio" -v m="$MIN_RATIO" 'BEGIN {exit !(r < m)}'; then
		echo "FAIL: pixelsim $name reaches $ratio of hello, below $MIN_RATIO" >&2
		status=1
	fi
done
exit "$status"

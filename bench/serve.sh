#!/usr/bin/env bash
# Load test of `cnn serve` with wrk, loopback only, every run bounded by -d (wrk shares the 2 cores with the server):
# a 28×28 PNG at 1, 8, 64 and 256 connections, JSON pixels at 8, GET /healthz at 8 (what a request costs before any
# work), feature maps of the page's 280×280 drawing at 8, then
# 256 connections for 60 s. Prints one table row per run with req/s, p50, p99, the status codes, socket errors, the
# server's CPU time per request and its RSS, and checks /readyz afterwards. DURATION=10 by default; SOAK=60 for the
# long run (0 skips it);
# MODEL=models/lenet5-mnist.onnx serves another model file (default: the explorer's, models/lenet5-handwriting.onnx);
# IMAGE=NAME serves it from the container image instead of the `cnn serve` process.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
duration=${DURATION:-10}
soak=${SOAK:-60}
port=${PORT:-5123}
url="http://127.0.0.1:$port"
model=$(realpath "${MODEL:-$root/models/lenet5-handwriting.onnx}")
name=$(basename "$model" .onnx)
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
# IMAGE=localhost/cnn-serve:latest runs the same load against the container (bash deploy/build-image.sh builds it),
# started as deploy/k8s runs it: read-only root, no capabilities, --threads 1 is left to the default like the process.
image=${IMAGE:-}
start=$(date +%s%N)
if [ -n "$image" ]; then
  source "$root/deploy/podman-env.sh"
  container=cnn-serve-bench-$$
  podman run -d --name "$container" --read-only --cap-drop=ALL -p "127.0.0.1:$port:8080" "$image" "/models/$name.onnx" --quiet >/dev/null
  server=$(podman inspect --format '{{.State.Pid}}' "$container")
  trap 'podman rm -f "$container" >/dev/null 2>&1 || true' EXIT
else
  dotnet build "$root/src/Cnn.Cli" -c Release -v quiet -nologo >/dev/null
  start=$(date +%s%N)
  dotnet "$root/src/Cnn.Cli/bin/Release/net10.0/linux-x64/cnn.dll" serve "$model" --urls "$url" --quiet > /tmp/cnn-serve-bench.log 2>&1 &
  server=$!
  trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
fi
until curl -sf "$url/readyz" >/dev/null; do sleep 0.02; done
echo "start to ready: $(( ($(date +%s%N) - start) / 1000000 )) ms (${image:+container creation, }process start, model load and warm-up)"

rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }
# The server's CPU time (user + system, all threads) in clock ticks: per request, it is a cost that does not move with
# how much of the two cores wrk or the host's neighbours take, unlike req/s.
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
run() { # NAME CONNECTIONS SECONDS PATH FILE TYPE
  local threads=$(( $2 < 2 ? 1 : 2 ))
  local line before after requests
  before=$(ticks)
  line=$(wrk -t"$threads" -c"$2" -d"$3"s --timeout 10s -s "$root/bench/serve-load.lua" "$url$4" -- "$5" "$6" | grep '^RESULT')
  after=$(ticks)
  requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
  line=${line#RESULT requests=$requests }
  printf '| %s | %s | %s | %s µs | %s MB |\n' "$1" "$2" "$line" \
    "$(awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", n ? t / hz / n * 1e6 : 0}')" "$(rss)"
}

predict=/v1/models/$name/predict
echo "| request | connections | result | server CPU per request | server RSS |"
echo "| --- | --- | --- | --- | --- |"
# A short warm-up of each kind of request, so the JIT's tiered compilation has settled before anything is measured.
wrk -t2 -c8 -d3s -s "$root/bench/serve-load.lua" "$url$predict" -- "$root/bench/digit-28.png" image/png >/dev/null
wrk -t2 -c8 -d2s -s "$root/bench/serve-load.lua" "$url$predict" -- "$root/bench/pixels.json" application/json >/dev/null
wrk -t2 -c8 -d2s -s "$root/bench/serve-load.lua" "$url/v1/models/$name/featuremaps" -- "$root/bench/drawing-280.png" image/png >/dev/null
for c in 1 8 64 256; do
  run "28×28 PNG predict" "$c" "$duration" "$predict" "$root/bench/digit-28.png" image/png
done
run "JSON pixels predict" 8 "$duration" "$predict" "$root/bench/pixels.json" application/json
# The HTTP floor: a GET that does no work, through the same middleware (metrics, security headers, problem mapping).
run "GET /healthz (the HTTP floor)" 8 "$duration" /healthz "" ""
run "280×280 drawing featuremaps" 8 "$duration" "/v1/models/$name/featuremaps" "$root/bench/drawing-280.png" image/png
if [ "$soak" -gt 0 ]; then
  run "28×28 PNG predict, soak" 256 "$soak" "$predict" "$root/bench/digit-28.png" image/png
fi
echo "after: /readyz $(curl -s -o /dev/null -w '%{http_code}' "$url/readyz"), RSS $(rss) MB"
stop=$(date +%s%N)
if [ -n "$image" ]; then
  podman stop -t 30 "$container" >/dev/null
  code=$(podman inspect --format '{{.State.ExitCode}}' "$container")
else
  kill -TERM $server
  wait $server && code=0 || code=$?
  trap - EXIT
fi
echo "SIGTERM to exit: $(( ($(date +%s%N) - stop) / 1000000 )) ms, exit code $code"

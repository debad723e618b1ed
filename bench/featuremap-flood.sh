#!/usr/bin/env bash
# The server's memory under a feature-map flood, loopback only, bounded: `cnn serve` with its default limits, then
# SLOW=100 clients that each ask for the maps of 64 digits (the most one request may carry, an answer of about 3 MB)
# and read 1 KB of the answer and stop, while FAST=200 more such requests are sent one after another; then the slow
# clients read their answers to the end. Prints the status codes, the server's peak RSS (VmHWM) and its RSS after.
# Before the limits, six slow readers of 6,290-image answers held 6.8 GB; the answers' bytes are now counted against
# --feature-memory (256 MB) until written.
#   bash bench/featuremap-flood.sh            MODEL=models/FILE.onnx serves another model (default: the explorer's)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
port=${PORT:-5124}
url="http://127.0.0.1:$port"
model=$(realpath "${MODEL:-$root/models/lenet5-handwriting.onnx}")
name=$(basename "$model" .onnx)
dotnet build "$root/src/Cnn.Cli" -c Release -v quiet -nologo >/dev/null
dotnet "$root/src/Cnn.Cli/bin/Release/net10.0/linux-x64/cnn.dll" serve "$model" --urls "$url" --quiet > /tmp/cnn-flood.log 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
until curl -sf "$url/readyz" >/dev/null; do sleep 0.02; done
kb() { awk -v k="$1" '$1 == k":" {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }
echo "ready: RSS $(kb VmRSS) MB"
python3 - "$port" "$name" "${SLOW:-100}" "${FAST:-200}" <<'PY'
import json, socket, sys, time, collections
port, name, slow_count, fast_count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
# 64 digit-like frames: a bar at a different place in each, in 0..1.
images = [[1.0 if (8 + i % 12) <= x <= (11 + i % 12) and 4 <= y < 24 else 0.0 for y in range(28) for x in range(28)] for i in range(64)]
body = json.dumps({"images": images}).encode()
head = f"POST /v1/models/{name}/featuremaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
def send(close):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if not close:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(head + (b"Connection: close\r\n" if close else b"") + b"\r\n" + body)
    return s
statuses = collections.Counter()
def finish(s, first):
    # A 200 is chunked: read to its last chunk. Anything else (413, 503) is a small problem already read.
    tail = first[-16:]
    if first[9:12] == b"200":
        while not tail.endswith(b"\r\n0\r\n\r\n") and (chunk := s.recv(1 << 20)):
            tail = (tail + chunk)[-16:]
    s.close()
slow = []
for _ in range(slow_count):
    s = send(close=False)
    s.settimeout(60)
    first = s.recv(1024)
    statuses["slow " + first[9:12].decode()] += 1
    slow.append((s, first))
start = time.time()
for _ in range(fast_count):
    s = send(close=False)
    s.settimeout(60)
    first = s.recv(1 << 16)
    statuses["fast " + first[9:12].decode()] += 1
    finish(s, first)
for s, first in slow:
    finish(s, first)
print("statuses:", dict(sorted(statuses.items())), f"({fast_count} fast requests in {time.time() - start:.1f} s)")
PY
echo "server peak RSS (VmHWM) $(kb VmHWM) MB, RSS after $(kb VmRSS) MB"

#!/usr/bin/env bash
# Inference figures for README: Cnn.Inference latency and throughput (bench/Cnn.Bench), the plain vs features
# ONNX files, and the wall time of a whole `cnn predict one.png` process (median of 5). 1 intra-op thread.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${MODEL:-$root/models/lenet5-handwriting.onnx}
dotnet build "$root/bench/Cnn.Bench" -c Release -v quiet -nologo >/dev/null
dotnet build "$root/src/Cnn.Cli" -c Release -v quiet -nologo >/dev/null
bench=("dotnet" "$root/bench/Cnn.Bench/bin/Release/net10.0/linux-x64/Cnn.Bench.dll")
"${bench[@]}" inference "$model"
echo
"${bench[@]}" files "$model"
echo
# seven.png: the first "7" of the digits-5k test set drawn 6× larger in dark ink on light grainy paper (260×220).
png=$(mktemp --suffix=.png)
trap 'rm -f "$png"' EXIT
cp "$root/bench/seven.png" "$png"
times=()
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  dotnet "$root/src/Cnn.Cli/bin/Release/net10.0/linux-x64/cnn.dll" predict "$model" "$png" >/dev/null
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
echo "cnn predict one.png, whole process: median ${median} ms of 5 (${times[*]} ms)"

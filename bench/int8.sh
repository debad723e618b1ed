#!/usr/bin/env bash
# int8 inference of the CIFAR net, both sides: cnn's int8 export (ONNX Runtime, QDQ) and its float file against
# PyTorch 1.13's own static int8 (bench/int8_pytorch.py: FX graph mode, the onednn engine — qnnpack is 8× slower here)
# and PyTorch's float, batch 64, THREADS (1) thread(s), REPEAT (3) rounds in alternating order, p50 per batch in ms.
# The net is trained for one epoch on random CIFAR-format data (the speed does not depend on the weights; CIFAR-100 is
# out of reach here). Needs python3-torch; run it on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=${THREADS:-1}
repeat=${REPEAT:-3}
out=$root/bench/out
source "$root/bench/peer.sh"
setup_peer
random_cifar "$out/cifar-random"
dotnet build "$root/src/Cnn.Cli" -c Release -v quiet -nologo >/dev/null
dotnet build "$root/bench/Cnn.Bench" -c Release -v quiet -nologo >/dev/null
cnn=("dotnet" "$root/src/Cnn.Cli/bin/Release/net10.0/linux-x64/cnn.dll")
bench=("$root/bench/Cnn.Bench/bin/Release/net10.0/linux-x64/Cnn.Bench")
run=$out/int8-run
rm -rf "$run"
"${cnn[@]}" train cifar --data "$out/cifar-random" --epochs 1 --no-augment --threads 2 --out "$run" >"$run.log"
"${cnn[@]}" export "$run" --out "$run/cifar.onnx" >/dev/null
"${cnn[@]}" export "$run" --int8 --out "$run/cifar.int8.onnx" >/dev/null

cnn_p50() { "${bench[@]}" inference "$1" --iterations 100 --threads "$threads" | awk '/PredictBatch, batch 64/ {printf "%.2f\n", $5 / 1000}'; }
# PyTorch's channels-last float and its int8, from one run of the script: "FLOAT INT8".
torch_p50() { env "${peer_env[@]}" "$python" "$root/bench/int8_pytorch.py" --engine onednn --threads "$threads" --batches 100 |
  awk '/^float channels-last/ {f = $(NF-1)} /^int8 / {i = $(NF-1)} END {print f, i}'; }
cf=() ci=() tf=() ti=()
for ((r = 0; r < repeat; r++)); do
  cf+=("$(cnn_p50 "$run/cifar.onnx")")
  read -r f i < <(torch_p50); tf+=("$f"); ti+=("$i")
  ci+=("$(cnn_p50 "$run/cifar.int8.onnx")")
done
printf '%-24s %10s %10s\n' "batch 64, ms (p50)" float int8
printf '%-24s %10s %10s\n' cnn "$(median "${cf[@]}")" "$(median "${ci[@]}")"
printf '%-24s %10s %10s\n' "PyTorch (onednn)" "$(median "${tf[@]}")" "$(median "${ti[@]}")"
echo "cnn int8 / cnn float: $(ratio "$(median "${cf[@]}")" "$(median "${ci[@]}")")x faster; cnn int8 against PyTorch int8: $(ratio "$(median "${ti[@]}")" "$(median "${ci[@]}")")x"
echo "  runs: cnn float ${cf[*]}; cnn int8 ${ci[*]}; PyTorch float ${tf[*]}; PyTorch int8 ${ti[*]}" >&2
describe_setup

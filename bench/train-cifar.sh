#!/usr/bin/env bash
# Training and evaluation speed of the CIFAR-100 net on random 3×32×32 data: `cnn train cifar` (TorchSharp, libtorch
# 2.10) against the same net and loop in PyTorch (peer.sh), NCHW and channels-last: same files, batch 128, Adam 5e-4,
# no augmentation, 1 epoch of 9,216 images, THREADS (2) threads; evaluation over the 1,024 validation and 2,048 test
# images (PyTorch under inference_mode). Medians of REPEAT (3) runs in alternating order; ratios are cnn over the
# faster PyTorch variant. Needs: apt-get install python3-torch. Run it on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=${THREADS:-2}
repeat=${REPEAT:-3}
out=$root/bench/out
data=$out/cifar-random
source "$root/bench/peer.sh"
setup_peer
random_cifar "$data"
dotnet build "$root/src/Cnn.Cli" -c Release -v quiet -nologo >/dev/null
cnn=("dotnet" "$root/src/Cnn.Cli/bin/Release/net10.0/linux-x64/cnn.dll")

run_cnn() {
  rm -rf "$out/cifar-run"
  "${cnn[@]}" train cifar --data "$data" --epochs 1 --no-augment --scheduler none --patience 0 --threads "$threads" \
    --out "$out/cifar-run" >"$out/cifar-run.log"
  read -r a b < <(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(round(s['train_images_per_second']), round(s['eval_images_per_second']))" \
    "$out/cifar-run/summary.json")
  ct+=("$a"); ce+=("$b")
}
run_torch() { # extra arguments
  env "${peer_env[@]}" "$python" "$root/bench/cifar_pytorch.py" "$data" --threads "$threads" "$@" |
    python3 -c "import json,sys; s=json.load(sys.stdin); print(round(s['train_images_per_second']), round(s['eval_images_per_second']))"
}
run_nchw() { read -r a b < <(run_torch); nt+=("$a"); ne+=("$b"); }
run_channels_last() { read -r a b < <(run_torch --channels-last); lt+=("$a"); le+=("$b"); }

ct=() ce=() nt=() ne=() lt=() le=()
for ((r = 1; r <= repeat; r++)); do
  alternate "$r" run_cnn run_nchw run_channels_last
done
printf '%-10s %10s %12s %18s %8s\n' images/s cnn "torch NCHW" "torch ch.-last" ratio
for what in train eval; do
  if [ "$what" = train ]; then c=$(median "${ct[@]}") n=$(median "${nt[@]}") l=$(median "${lt[@]}")
  else c=$(median "${ce[@]}") n=$(median "${ne[@]}") l=$(median "${le[@]}"); fi
  printf '%-10s %10s %12s %18s %7sx\n' "$what" "$c" "$n" "$l" "$(ratio "$c" "$(larger "$n" "$l")")"
done
echo "  train runs: cnn ${ct[*]}; NCHW ${nt[*]}; channels-last ${lt[*]}" >&2
echo "  eval runs: cnn ${ce[*]}; NCHW ${ne[*]}; channels-last ${le[*]}" >&2
# GFLOP/s of the training step: multiply-adds of the forward pass, ×2 for FLOPs, ×3 for forward + both backward
# products (conv1's input gradient is not computed: subtracted).
python3 - "$(median "${ct[@]}")" "$(median "${ce[@]}")" <<'PY'
import sys
train, evaluate = map(float, sys.argv[1:])
convs = [(3, 32, 32), (32, 32, 32), (32, 64, 16), (64, 64, 16)]  # in, out, side; 3×3, same padding
macs = [i * o * 9 * s * s for i, o, s in convs] + [4096 * 256, 256 * 20]
forward = 2 * sum(macs)
step = 3 * forward - 2 * macs[0]
print(f"cnn: {train * step / 1e9:.0f} GFLOP/s training ({step / 1e6:.0f} MFLOP per image), "
      f"{evaluate * forward / 1e9:.0f} GFLOP/s evaluating ({forward / 1e6:.0f} MFLOP per image)")
PY
describe_setup

#!/usr/bin/env bash
# bf16 mixed-precision training against fp32, both sides: `cnn train … --precision bf16` (Kernels/MixedPrecision.cs)
# and PyTorch 1.13's CPU autocast (torch.cpu.amp.autocast(dtype=torch.bfloat16)), NCHW and channels-last, the faster
# counted; each side's fp32 as well. The CIFAR net on random CIFAR-format data (as train-cifar.sh: batch 128, Adam 5e-4,
# 1 epoch of 9,216 images, evaluation over 3,072), then LeNet-5 on MNIST (as train-lenet.sh: batch 64, Adam 1e-3,
# EPOCHS (1) epoch of 55,000). THREADS (2) threads, medians of REPEAT (3) rounds in alternating order. Needs
# python3-torch and MNIST (data/get-mnist.sh); run it on an otherwise idle machine with bfloat16 instructions.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=${THREADS:-2}
repeat=${REPEAT:-3}
epochs=${EPOCHS:-1}
mnist=${MNIST:-$HOME/.cache/cnn/mnist}
out=$root/bench/out
data=$out/cifar-random
source "$root/bench/peer.sh"
setup_peer
random_cifar "$data"
dotnet build "$root/src/Cnn.Cli" -c Release -v quiet -nologo >/dev/null
cnn=("dotnet" "$root/src/Cnn.Cli/bin/Release/net10.0/linux-x64/cnn.dll")
json() { python3 -c "import json,sys; s=json.load(open(sys.argv[1]) if sys.argv[1] != '-' else sys.stdin); print(' '.join(str(round(s[k])) for k in sys.argv[2:]))" "$@"; }

cifar_cnn() { # precision
  rm -rf "$out/bf16-run"
  "${cnn[@]}" train cifar --data "$data" --epochs 1 --no-augment --scheduler none --patience 0 --threads "$threads" \
    --precision "$1" --out "$out/bf16-run" >"$out/bf16-run.log"
  json "$out/bf16-run/summary.json" train_images_per_second eval_images_per_second
}
cifar_torch() { env "${peer_env[@]}" "$python" "$root/bench/cifar_pytorch.py" "$data" --threads "$threads" "$@" | json - train_images_per_second eval_images_per_second; }
lenet_cnn() { # precision
  rm -rf "$out/bf16-run"
  "${cnn[@]}" train lenet --dataset mnist --data "$mnist" --epochs "$epochs" --no-augment --scheduler none --lr 0.001 \
    --patience 0 --threads "$threads" --precision "$1" --out "$out/bf16-run" >"$out/bf16-run.log"
  json "$out/bf16-run/summary.json" train_images_per_second eval_images_per_second
}
lenet_torch() { env "${peer_env[@]}" "$python" "$root/bench/lenet_pytorch.py" "$mnist" --epochs "$epochs" --threads "$threads" "$@" | json - images_per_second; }

# One measurement: the command's figures (training, and evaluation where it reports one) appended to runs[KEY.train]
# and runs[KEY.eval].
declare -A runs
measure() { # key, command…
  local key=$1; shift
  read -r t e < <("$@")
  runs[$key.train]+="$t "
  [ -n "${e:-}" ] && runs[$key.eval]+="$e "
  return 0
}
variants() { # net: KEY:COMMAND lines, the net's cnn and PyTorch functions in both precisions and layouts
  printf '%s\n' "cnn-fp32:$1_cnn fp32" "cnn-bf16:$1_cnn bf16" "torch-fp32-nchw:$1_torch" "torch-fp32-cl:$1_torch --channels-last" \
    "torch-bf16-nchw:$1_torch --bf16" "torch-bf16-cl:$1_torch --channels-last --bf16"
}
m() { median ${runs[$1]:-0}; }
for net in cifar lenet; do
  runs=()
  mapfile -t list < <(variants "$net")
  for ((r = 0; r < repeat; r++)); do
    # Rotate the order each round, so no variant always runs first or after the same one.
    for ((i = 0; i < ${#list[@]}; i++)); do
      entry=${list[$(((i + r) % ${#list[@]}))]}
      key=${entry%%:*}; command=${entry#*:}
      # shellcheck disable=SC2086
      measure "$key" $command
    done
  done
  echo "== $net, $threads threads, images/s (medians of $repeat)"
  printf '%-8s %10s %10s %12s %12s %12s %12s\n' "" "cnn fp32" "cnn bf16" "torch fp32" "torch bf16" "cnn bf16/fp32" "cnn/torch bf16"
  for what in train eval; do
    [ -z "${runs[cnn-fp32.$what]:-}" ] && continue
    cf=$(m "cnn-fp32.$what"); cb=$(m "cnn-bf16.$what")
    tf=$(larger "$(m "torch-fp32-nchw.$what")" "$(m "torch-fp32-cl.$what")")
    tb=$(larger "$(m "torch-bf16-nchw.$what")" "$(m "torch-bf16-cl.$what")")
    if [ "$tb" = 0 ]; then  # lenet_pytorch.py times training only
      printf '%-8s %10s %10s %12s %12s %11sx %12s\n' "$what" "$cf" "$cb" "-" "-" "$(ratio "$cb" "$cf")" "-"
    else
      printf '%-8s %10s %10s %12s %12s %11sx %11sx\n' "$what" "$cf" "$cb" "$tf" "$tb" "$(ratio "$cb" "$cf")" "$(ratio "$cb" "$tb")"
    fi
  done
  for key in "${!runs[@]}"; do echo "  $key: ${runs[$key]}"; done | sort >&2
done
describe_setup

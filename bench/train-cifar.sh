#!/usr/bin/env bash
# Training and inference speed of the CIFAR-100 net on random 3×32×32 data: `cnn train cifar` (TorchSharp,
# libtorch 2.10) against the same net in PyTorch (Debian python3-torch with OpenBLAS) in the same run: same files,
# batch 128, Adam 5e-4, no augmentation, 1 epoch of 9,216 images, 2 threads; evaluation over the 1,024 validation and
# 2,048 test images. Each allocator setting as in train-lenet.sh. Medians of REPEAT runs.
# Needs: apt-get install python3-torch libopenblas0. Run it on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
threads=${THREADS:-2}
repeat=${REPEAT:-3}
out=$root/bench/out
data=$out/cifar-random
mkdir -p "$data"
# Random records in CIFAR-100's binary format (labels in range), fixed seed.
"$python" - "$data" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(7)
for name, n in (("train.bin", 10240), ("test.bin", 2048)):
    r = rng.integers(0, 256, (n, 3074), dtype=np.uint8)
    r[:, 0] = rng.integers(0, 20, n)
    r[:, 1] = rng.integers(0, 100, n)
    r.tofile(f"{sys.argv[1]}/{name}")
PY
dotnet build "$root/src/Cnn.Cli" -c Release -v quiet -nologo >/dev/null
cnn=("dotnet" "$root/src/Cnn.Cli/bin/Release/net10.0/linux-x64/cnn.dll")
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

printf '%-10s %14s %14s %14s %14s %8s %8s\n' allocator "cnn train/s" "torch train/s" "cnn eval/s" "torch eval/s" train eval
for allocator in default retained; do
  if [ "$allocator" = retained ]; then
    cnn_env=(CNN_BENCH=1); torch_env=(MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000)
  else
    cnn_env=(MALLOC_TRIM_THRESHOLD_=131072); torch_env=(CNN_BENCH=1)
  fi
  ct=() ce=() tt=() te=()
  for ((r = 1; r <= repeat; r++)); do
    rm -rf "$out/cifar-run"
    env "${cnn_env[@]}" "${cnn[@]}" train cifar --data "$data" --epochs 1 --no-augment --scheduler none --patience 0 \
      --threads "$threads" --out "$out/cifar-run" >"$out/cifar-run.log"
    read -r a b < <(python3 -c "import json; s=json.load(open('$out/cifar-run/summary.json')); print(round(s['train_images_per_second']), round(s['eval_images_per_second']))")
    ct+=("$a"); ce+=("$b")
    read -r a b < <(env "${torch_env[@]}" "$python" "$root/bench/cifar_pytorch.py" "$data" --threads "$threads" |
      python3 -c "import json,sys; s=json.load(sys.stdin); print(round(s['train_images_per_second']), round(s['eval_images_per_second']))")
    tt+=("$a"); te+=("$b")
  done
  c1=$(median "${ct[@]}"); c2=$(median "${ce[@]}"); t1=$(median "${tt[@]}"); t2=$(median "${te[@]}")
  printf '%-10s %14s %14s %14s %14s %7sx %7sx\n' "$allocator" "$c1" "$t1" "$c2" "$t2" \
    "$(python3 -c "print(f'{$c1/$t1:.2f}')")" "$(python3 -c "print(f'{$c2/$t2:.2f}')")"
done
echo "threads $threads, torch $("$python" -c 'import torch; print(torch.__version__)'), $(nproc) cores"

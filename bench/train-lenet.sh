#!/usr/bin/env bash
# Training speed of LeNet-5 on Fashion-MNIST: `cnn train lenet` (TorchSharp, libtorch 2.10) against the same model
# in PyTorch (Debian python3-torch with OpenBLAS), same data, batch 64, Adam, no augmentation, 2 epochs, with 1 and
# 2 threads, each with glibc's default allocator and with freed memory retained: cnn does that itself through
# mallopt (GlibcAllocator; MALLOC_TRIM_THRESHOLD_=131072, glibc's default, turns it off), PyTorch through
# MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ at 1e9.
# Prints images/s, the ratio cnn / PyTorch and cnn's peak RSS. Needs: apt-get install python3-torch libopenblas0
# dataset-fashion-mnist. Run it on an otherwise idle machine: both runs share the same cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
epochs=${EPOCHS:-2}
# Each figure is the median of REPEAT runs: single runs on 2 shared cores vary by ±15 %.
repeat=${REPEAT:-3}
out=$root/bench/out
# Debian's python3-torch lives in the system Python, not in a pyenv or venv one that may come first on PATH.
python=${PYTHON:-/usr/bin/python3}
mkdir -p "$out"
dotnet build "$root/src/Cnn.Cli" -c Release -v quiet -nologo >/dev/null
cnn=("dotnet" "$root/src/Cnn.Cli/bin/Release/net10.0/linux-x64/cnn.dll")

run_cnn() { # threads, tag, env...
  local threads=$1 tag=$2; shift 2
  rm -rf "$out/cnn-$tag"
  env "$@" "${cnn[@]}" train lenet --dataset fashion-mnist --data "$data" --epochs "$epochs" --no-augment \
    --scheduler none --lr 0.001 --patience 0 --threads "$threads" --out "$out/cnn-$tag" >"$out/cnn-$tag.log"
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(f\"{s['train_images_per_second']:.0f} {s['peak_rss_megabytes']:.0f}\")" \
    "$out/cnn-$tag/summary.json"
}
run_torch() { # threads, env...
  local threads=$1; shift
  env "$@" "$python" "$root/bench/lenet_pytorch.py" "$data" --epochs "$epochs" --threads "$threads" |
    python3 -c "import json,sys; print(f\"{json.load(sys.stdin)['images_per_second']:.0f}\")"
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

printf '%-8s %-10s %12s %12s %8s %14s\n' threads allocator "cnn img/s" "torch img/s" ratio "cnn peak RSS"
for threads in 1 2; do
  for allocator in default retained; do
    if [ "$allocator" = retained ]; then
      cnn_env=(CNN_BENCH=1)
      torch_env=(MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000)
    else
      cnn_env=(MALLOC_TRIM_THRESHOLD_=131072)
      torch_env=(CNN_BENCH=1)
    fi
    cnn_runs=() torch_runs=()
    for ((r = 1; r <= repeat; r++)); do
      read -r ips cnn_rss < <(run_cnn "$threads" "t$threads-$allocator" "${cnn_env[@]}")
      cnn_runs+=("$ips")
      torch_runs+=("$(run_torch "$threads" "${torch_env[@]}")")
    done
    cnn_ips=$(median "${cnn_runs[@]}")
    torch_ips=$(median "${torch_runs[@]}")
    ratio=$(python3 -c "print(f'{$cnn_ips/$torch_ips:.2f}')")
    printf '%-8s %-10s %12s %12s %8s %11s MB\n' "$threads" "$allocator" "$cnn_ips" "$torch_ips" "${ratio}x" "$cnn_rss"
  done
done
echo "torch: $("$python" -c 'import torch; print(torch.__version__)'), cnn: TorchSharp $(ls ~/.nuget/packages/torchsharp/ | tail -1), $(nproc) cores"

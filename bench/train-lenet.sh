#!/usr/bin/env bash
# Training speed of LeNet-5 on Fashion-MNIST: `cnn train lenet` (TorchSharp, libtorch 2.10) against the same model
# in PyTorch (Debian python3-torch with OpenBLAS), same data, batch 64, Adam, no augmentation, 2 epochs, with 1 and
# 2 threads, each with glibc's default allocator and with MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ at 1e9.
# Prints images/s, the ratio cnn / PyTorch and cnn's peak RSS. Needs: apt-get install python3-torch libopenblas0
# dataset-fashion-mnist. Run it on an otherwise idle machine: both runs share the same cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
epochs=${EPOCHS:-2}
out=$root/bench/out
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
  env "$@" python3 "$root/bench/lenet_pytorch.py" "$data" --epochs "$epochs" --threads "$threads" |
    python3 -c "import json,sys; print(f\"{json.load(sys.stdin)['images_per_second']:.0f}\")"
}

malloc=(MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000)
printf '%-8s %-10s %12s %12s %8s %14s\n' threads allocator "cnn img/s" "torch img/s" ratio "cnn peak RSS"
for threads in 1 2; do
  for allocator in default tuned; do
    if [ "$allocator" = tuned ]; then envs=("${malloc[@]}"); else envs=(CNN_BENCH=1); fi
    read -r cnn_ips cnn_rss < <(run_cnn "$threads" "t$threads-$allocator" "${envs[@]}")
    torch_ips=$(run_torch "$threads" "${envs[@]}")
    ratio=$(python3 -c "print(f'{$cnn_ips/$torch_ips:.2f}')")
    printf '%-8s %-10s %12s %12s %8s %11s MB\n' "$threads" "$allocator" "$cnn_ips" "$torch_ips" "${ratio}x" "$cnn_rss"
  done
done
echo "torch: $(python3 -c 'import torch; print(torch.__version__)'), cnn: TorchSharp $(ls ~/.nuget/packages/torchsharp/ | tail -1), $(nproc) cores"

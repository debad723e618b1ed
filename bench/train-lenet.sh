#!/usr/bin/env bash
# Training speed of LeNet-5 on Fashion-MNIST: `cnn train lenet` (TorchSharp, libtorch 2.10) against the same model and
# loop in PyTorch (peer.sh: Debian's python3-torch with OpenMP OpenBLAS and the allocator keeping freed memory), both
# NCHW and channels-last; same data, batch 64, Adam 1e-3, no augmentation, EPOCHS (2) epochs, 1 and 2 threads.
# Each figure is the median of REPEAT (3) runs, the three runs of a round in alternating order; the ratio is cnn over
# the faster PyTorch variant. Needs: apt-get install python3-torch dataset-fashion-mnist. Run it on an otherwise idle
# machine: every run uses the same cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
epochs=${EPOCHS:-2}
repeat=${REPEAT:-3}
threads_list=${THREADS:-1 2}
out=$root/bench/out
source "$root/bench/peer.sh"
mkdir -p "$out"
setup_peer
dotnet build "$root/src/Cnn.Cli" -c Release -v quiet -nologo >/dev/null
cnn=("dotnet" "$root/src/Cnn.Cli/bin/Release/net10.0/linux-x64/cnn.dll")

run_cnn() {
  rm -rf "$out/lenet-run"
  "${cnn[@]}" train lenet --dataset fashion-mnist --data "$data" --epochs "$epochs" --no-augment --scheduler none \
    --lr 0.001 --patience 0 --threads "$threads" --out "$out/lenet-run" >"$out/lenet-run.log"
  read -r ips rss < <(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(round(s['train_images_per_second']), round(s['peak_rss_megabytes']))" \
    "$out/lenet-run/summary.json")
  cnn_runs+=("$ips"); cnn_rss=$rss
}
run_torch() { # extra arguments
  env "${peer_env[@]}" "$python" "$root/bench/lenet_pytorch.py" "$data" --epochs "$epochs" --threads "$threads" "$@" |
    python3 -c "import json,sys; print(round(json.load(sys.stdin)['images_per_second']))"
}
run_nchw() { nchw_runs+=("$(run_torch)"); }
run_channels_last() { last_runs+=("$(run_torch --channels-last)"); }

printf '%-8s %10s %14s %18s %8s %13s\n' threads "cnn img/s" "torch NCHW" "torch ch.-last" ratio "cnn peak RSS"
for threads in $threads_list; do
  cnn_runs=() nchw_runs=() last_runs=()
  for ((r = 1; r <= repeat; r++)); do
    alternate "$r" run_cnn run_nchw run_channels_last
  done
  c=$(median "${cnn_runs[@]}") n=$(median "${nchw_runs[@]}") l=$(median "${last_runs[@]}")
  printf '%-8s %10s %14s %18s %7sx %10s MB\n' "$threads" "$c" "$n" "$l" "$(ratio "$c" "$(larger "$n" "$l")")" "$cnn_rss"
  echo "  runs: cnn ${cnn_runs[*]}; NCHW ${nchw_runs[*]}; channels-last ${last_runs[*]}" >&2
done
describe_setup

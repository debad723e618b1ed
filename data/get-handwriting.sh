#!/usr/bin/env bash
# Puts the outside handwriting collections where `cnn train lenet --dataset handwriting` looks for them:
# UNIPEN train_r01_v07 section 1a (13 sites' pen trajectories), UCI optdigits' original 32x32 bitmaps (.tra, .cv) and
# UCI pendigits (.tra); all CC BY 4.0 (models/README.md cites them).
#
#   bash data/get-handwriting.sh [--from DIR] [DEST]   # DEST defaults to $XDG_CACHE_HOME/cnn/handwriting-sources,
#                                                      # else ~/.cache/cnn/handwriting-sources
#   --manifest FILE   check against FILE instead of data/handwriting-sources.sha256 (the tests' small collections)
#
# Without --from it downloads UCI's files (datasets 80 and 81) and UNIPEN as the patched copy of the Zenodo release
# (doi:10.5281/zenodo.1195803) that parses cleanly, at a pinned commit; with --from it copies a local folder laid out
# the same way (unipen_1a/, optdigits/, pendigits/). Only the files listed in data/handwriting-sources.sha256 are
# taken: the parts of these collections kept for evaluation never come in. Every file is checked against its pinned
# SHA-256 in a scratch folder beside DEST, and DEST is replaced only once all of them match, so a half-fetched or
# altered copy never remains where a run would read it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
manifest="$here/handwriting-sources.sha256"
uci=https://archive.ics.uci.edu/ml/machine-learning-databases
unipen_commit=552a4d440bc94bb34710650c0826be7deb986f7c
unipen_archive=https://github.com/GreenCappuccino/train_r01_v07/archive/$unipen_commit.tar.gz

from=""
dest=""
while [ $# -gt 0 ]; do
    case "$1" in
        --from) [ $# -ge 2 ] || { echo "get-handwriting: --from needs a folder" >&2; exit 2; }; from=$2; shift 2 ;;
        --from=*) from=${1#--from=}; shift ;;
        --manifest) [ $# -ge 2 ] || { echo "get-handwriting: --manifest needs a file" >&2; exit 2; }; manifest=$(realpath "$2"); shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        -*) echo "get-handwriting: unknown option $1; expected --from DIR and an optional DEST" >&2; exit 2 ;;
        *) [ -z "$dest" ] || { echo "get-handwriting: more than one DEST ($dest, $1)" >&2; exit 2; }; dest=$1; shift ;;
    esac
done
dest=${dest:-${XDG_CACHE_HOME:-$HOME/.cache}/cnn/handwriting-sources}
if [ -n "$from" ] && [ ! -d "$from" ]; then
    echo "get-handwriting: --from $from is not a folder; expected one holding unipen_1a/, optdigits/ and pendigits/" >&2
    exit 2
fi

mkdir -p "$(dirname "$dest")"
work=$(mktemp -d "$(dirname "$dest")/.handwriting-sources.partial.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/files"

if [ -n "$from" ]; then
    origin=$from
else
    command -v curl > /dev/null || { echo "get-handwriting: curl is not installed (Debian: apt-get install curl)" >&2; exit 1; }
    origin="$work/download"
    mkdir -p "$origin/optdigits" "$origin/pendigits"
    for name in optdigits-orig.tra optdigits-orig.cv; do
        curl -fsSL --retry 3 "$uci/optdigits/$name.Z" | gzip -dc > "$origin/optdigits/$name"
    done
    curl -fsSL --retry 3 "$uci/pendigits/pendigits.tra" -o "$origin/pendigits/pendigits.tra"
    curl -fsSL --retry 3 "$unipen_archive" | tar -xz -C "$origin"
    mv "$origin/train_r01_v07-$unipen_commit" "$origin/unipen_1a"
fi

missing=0
while read -r _ path; do
    if [ ! -f "$origin/$path" ]; then
        [ $missing -lt 5 ] && echo "get-handwriting: $origin/$path is missing" >&2
        missing=$((missing + 1))
        continue
    fi
    mkdir -p "$work/files/$(dirname "$path")"
    cp "$origin/$path" "$work/files/$path"
done < "$manifest"
if [ $missing -gt 0 ]; then
    echo "get-handwriting: $missing of $(wc -l < "$manifest") files missing from $origin; nothing was written to $dest" >&2
    exit 1
fi

if ! (cd "$work/files" && sha256sum --quiet --check "$manifest" > "$work/check" 2>&1); then
    grep -v '^sha256sum:' "$work/check" | head -5 | sed 's/^/get-handwriting: /' >&2
    echo "get-handwriting: files above differ from their pinned SHA-256 in $manifest (altered or truncated); nothing was written to $dest" >&2
    exit 1
fi

if [ -e "$dest" ]; then
    mv "$dest" "$work/previous"
fi
mv "$work/files" "$dest"
echo "wrote    $dest ($(wc -l < "$manifest") files, each matching data/handwriting-sources.sha256)"

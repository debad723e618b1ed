#!/usr/bin/env bash
# Rebuilds the handwriting evaluation set (see README.md beside this script) from Debian packages:
#  1. t10k-*: python3-sklearn ships the test part of UCI's "Optical Recognition of Handwritten Digits" (1,797 digits
#     written by 13 people on NIST forms, none of them in MNIST or digits-5k) as 8×8 counts of on-pixels in 4×4
#     blocks (0..16); written here as MNIST-style IDX files (8×8, 0..255).
#  2. fonts-*: the digits 0-9 of 17 handwriting fonts, each made from one person's handwriting, rendered by
#     bench/Cnn.Bench as 64×64 white-on-black IDX images.
# Needs apt-get (to download the .debs; nothing is installed), dpkg-deb, python3 and the .NET SDK.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
font_packages=(fonts-bwht fonts-breip fonts-femkeklaver fonts-dkg-handwriting fonts-humor-sans fonts-klee
  fonts-rufscript fonts-seto fonts-sjfonts fonts-yusei-magic)
(cd "$work" && apt-get download python3-sklearn "${font_packages[@]}" >/dev/null 2>&1)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/x"; done

csv=$(find "$work/x" -name digits.csv.gz | head -1)
python3 - "$csv" "$here" <<'PY'
import gzip, struct, sys
csv, out = sys.argv[1], sys.argv[2]
rows = [list(map(int, line.split(','))) for line in gzip.open(csv, 'rt') if line.strip()]
pixels = bytes(min(255, round(v * 255 / 16)) for row in rows for v in row[:64])
labels = bytes(row[64] for row in rows)
with gzip.GzipFile(f'{out}/t10k-images-idx3-ubyte.gz', 'wb', mtime=0) as f:
    f.write(struct.pack('>iiii', 2051, len(rows), 8, 8) + pixels)
with gzip.GzipFile(f'{out}/t10k-labels-idx1-ubyte.gz', 'wb', mtime=0) as f:
    f.write(struct.pack('>ii', 2049, len(rows)) + labels)
print(f'{len(rows)} UCI digits written to {out}')
PY

# One font per hand: the regular cut of each family, plus dkg's italic (the same hand, slanted).
fonts="$work/fonts"
mkdir -p "$fonts"
f="$work/x/usr/share/fonts"
cp "$f"/opentype/bwht/BecauseWe*-Regular.otf "$f"/truetype/breip/Breip.ttf "$f"/truetype/femkeklaver/femkeklaver.ttf \
  "$f"/truetype/fifthhorseman/dkg.ttf "$f"/truetype/fifthhorseman/dkgIt.ttf "$f"/truetype/humor-sans/Humor-Sans.ttf \
  "$f"/truetype/klee/KleeOne-Regular.ttf "$f"/truetype/rufscript/Rufscript010.ttf "$f"/truetype/seto/setofont.ttf \
  "$f"/truetype/sjfonts/Delphine.ttf "$f"/truetype/sjfonts/SteveHand.ttf "$f"/truetype/yusei-magic/YuseiMagic-Regular.ttf "$fonts"
dotnet run -c Release --project "$repo/bench/Cnn.Bench" -- font-digits "$fonts" "$here"
sha256sum "$here"/*.gz

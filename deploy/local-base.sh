#!/usr/bin/env bash
# A base image for cnn-serve without a registry: the shared libraries the published server links against (glibc,
# libstdc++, libgcc_s and the dynamic loader), copied from this machine, plus /tmp and an unprivileged user. Nothing
# else: no shell, no package manager. Imported into podman as localhost/cnn-base:glibc; prints that name.
#
#   bash deploy/local-base.sh PUBLISHED_APP_FOLDER
#
# The libraries are whatever this machine's dynamic loader resolves for the app's native files (ldd), so the base
# matches the glibc it was built on (Debian 12 here: glibc 2.36). Measured size: README, "Deploy".
set -euo pipefail
app=${1:?usage: local-base.sh PUBLISHED_APP_FOLDER}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=deploy/podman-env.sh
source "$root/deploy/podman-env.sh"
name=localhost/cnn-base:glibc

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
libs=$(for f in "$app"/*.so; do ldd "$f"; done | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' | sort -u)
if [ -z "$libs" ]; then
    echo "local-base.sh: ldd found no libraries for $app/*.so; expected a published linux-x64 server there" >&2
    exit 1
fi
for lib in $libs; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
done
# The loader's canonical path as well, whichever of the two ldd named.
for loader in /lib64/ld-linux-x86-64.so.2; do
    [ -e "$rootfs$loader" ] || { mkdir -p "$rootfs$(dirname "$loader")"; cp -L "$loader" "$rootfs$loader"; }
done
mkdir -p "$rootfs/tmp" "$rootfs/etc"
chmod 1777 "$rootfs/tmp"
echo "root:x:0:0:root:/:/sbin/nologin" > "$rootfs/etc/passwd"
echo "app:x:10001:10001:cnn-serve:/app:/sbin/nologin" >> "$rootfs/etc/passwd"
printf 'root:x:0:\napp:x:10001:\n' > "$rootfs/etc/group"
tar -C "$rootfs" -c . | podman import --quiet - "$name" > /dev/null
echo "$name"

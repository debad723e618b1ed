#!/usr/bin/env bash
# Run by `dotnet test Cnn.sln` (Cnn.TestUtilities builds it first, once): makes sure the machine has what the tests
# use besides the .NET SDK, installing it where it can, and otherwise stops the build with one line naming it.
#   - Debian's Chromium: the explorer page's tests drive it through Playwright (Playwright's own browser download
#     is not used; it needs a host this project does not assume).
#   - DejaVu Sans: figures and their tests draw text with it (SkiaSharp's bundled natives have no fontconfig).
#   - flock (util-linux): the run-folder lock test holds a lock with it from another process.
#   - optional: npm's kubernetes-models and yaml for the manifest test, when npm is there; podman is not installed
#     here (the container tests say they are skipped without it).
# Takes milliseconds when everything is there.
set -u
check() {
    missing=()
    [ -x "${CNN_CHROMIUM:-/usr/lib/chromium/chromium}" ] || missing+=(chromium)
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
    command -v flock > /dev/null 2>&1 || missing+=(util-linux)
    [ ${#missing[@]} -eq 0 ]
}
# Optional, for the manifest test (skipped without it): npm's kubernetes-models and yaml, into artifacts/node, once.
node_modules="$(cd "$(dirname "$0")/.." && pwd)/artifacts/node"
if command -v npm > /dev/null 2>&1 && [ ! -f "$node_modules/node_modules/yaml/package.json" ]; then
    npm install --prefix "$node_modules" --no-audit --no-fund --silent kubernetes-models@5.1.0 yaml@2.9.1 > /dev/null 2>&1 ||
        echo "note: npm could not install kubernetes-models; the manifest test will be skipped"
fi

check && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null 2>&1; then
    echo "test prerequisites: installing ${missing[*]} with apt-get (once)"
    lock=/tmp/cnn-test-prerequisites.lock
    # Two builds at once wait for each other instead of racing for dpkg's lock.
    if (flock 9 2> /dev/null || true
        apt-get update -qq > /dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null 2>&1) 9> "$lock" && check; then
        exit 0
    fi
    echo "missing test prerequisites: ${missing[*]} (apt-get did not provide them); install them (Debian/Ubuntu: apt-get install ${missing[*]}; Chromium elsewhere: set CNN_CHROMIUM to its executable) and run the tests again"
    exit 1
fi

echo "missing test prerequisites: ${missing[*]}; install them as root (Debian/Ubuntu: sudo apt-get install ${missing[*]}; Chromium elsewhere: set CNN_CHROMIUM to its executable) and run the tests again"
exit 1

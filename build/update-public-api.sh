#!/usr/bin/env bash
# Adds every public symbol the PublicApiAnalyzers report as undeclared (RS0016) to PROJECT/PublicAPI.Unshipped.txt, and
# drops the declared ones that no longer exist (RS0017). Run it after a deliberate API change, then read the diff:
#   bash build/update-public-api.sh src/Cnn.Inference
set -euo pipefail
project=${1:?usage: update-public-api.sh PROJECT_DIR}
unshipped="$project/PublicAPI.Unshipped.txt"
log=$(mktemp)
dotnet build "$project" --no-incremental -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= 2>&1 > "$log" || true
added=$(grep -oP "warning RS0016: Symbol '\K.*(?=' is not part of the declared public API)" "$log" | sort -u || true)
removed=$(grep -oP "warning RS0017: Symbol '\K.*(?=' is part of the declared API, but is either not public or could not be found)" "$log" | sort -u || true)
{
  echo '#nullable enable'
  { grep -v '^#nullable' "$unshipped" || true; printf '%s\n' "$added"; } | grep -v '^$' | grep -vxF -f <(printf '%s\n' "$removed" | grep -v '^$' || echo '@@none@@') | sort -u
} > "$unshipped.new"
mv "$unshipped.new" "$unshipped"
rm -f "$log"
echo "$unshipped: $(printf '%s\n' "$added" | grep -c . || true) added, $(printf '%s\n' "$removed" | grep -c . || true) removed"

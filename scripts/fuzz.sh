#!/usr/bin/env bash
# Runs every fuzz target of the module for DURATION (default 5m), one after
# another, at the lowest CPU priority and one worker at a time (the build
# machines are shared). Usage: bash scripts/fuzz.sh [DURATION]
# A failure stops the run; go test writes the failing input under the
# package's testdata/fuzz/FuzzXxx, where it becomes a seed case.
set -euo pipefail
duration="${1:-5m}"
cd "$(dirname "$0")/.."
targets=(
	"./flow FuzzParseParams"
	"./flow FuzzCallbackRequest"
	"./flow FuzzRelayPost"
	"./verify FuzzParseCompact"
	"./verify FuzzParseJWKS"
	"./verify FuzzDiscovery"
	"./verify FuzzDecodeObject"
	"./internal/suite FuzzParseSuite"
	"./internal/suite FuzzRetryAfter"
	"./internal/config FuzzParse"
	"./internal/claimsnap FuzzRoundTrip"
	"./internal/runner FuzzReadLines"
)
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "== $pkg $name for $duration (started $(date -u +%H:%M:%S))"
	nice -n 19 go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$duration" -parallel 1
done
echo "== all fuzz targets passed ($(date -u +%H:%M:%S))"

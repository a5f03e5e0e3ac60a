#!/usr/bin/env bash
# Prints claimcheck's core benchmark figures as a table: one whole code flow
# in-process against the embedded provider, ID token verification, and the
# raw crypto/rsa RS256 verification it is compared with (same run).
# Usage: bench/run.sh [COUNT]   (COUNT runs of each benchmark; default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

go test -run '^$' -bench 'BenchmarkCodeFlow$' -benchmem -count "$count" ./check/ | tee -a "$out" >&2
go test -run '^$' -bench 'Benchmark(VerifyIDToken|RawRS256)$' -benchmem -count "$count" ./verify/ | tee -a "$out" >&2

awk -v count="$count" '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 2; i <= NF; i++) if ($(i+1) == "ns/op") { v = $i }
	vals[name] = vals[name] " " v
}
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
	printf "\n%-26s %14s\n", "benchmark (median of " count ")", "time/op"
	for (k in vals) { m[k] = median(vals[k]); printf "%-26s %11.1f µs\n", k, m[k] / 1000 }
	if (m["BenchmarkRawRS256"] > 0)
		printf "\nverify/raw ratio: %.2f (ID token verification against one raw RS256 signature check)\n", m["BenchmarkVerifyIDToken"] / m["BenchmarkRawRS256"]
	if (m["BenchmarkCodeFlow"] > 0)
		printf "code flow: %.2f ms per whole flow (discovery, sign-in, redirect, exchange, verification)\n", m["BenchmarkCodeFlow"] / 1e6
}' "$out"

#!/bin/sh
# Prints the suite and refresh-token figures of issue 6: a 50-case suite
# against the embedded demo provider with --parallel 8 against --parallel 1
# (measured in the same run; goal: ratio <= 0.35), with the cores each
# mode kept busy and the least ratio that much CPU work allows on this
# machine's cores (the provider runs in the same process: its RSA signing
# is most of the work), the same against the
# provider with 20 ms added per response, and one `claimcheck --grant
# refresh_token` invocation (wall time from process start, and the HTTP
# requests it made). Runs niced: the machine is shared.
set -eu
cd "$(dirname "$0")/.."
out=$(nice -n 19 go test -run '^$' -bench 'Suite50|RefreshInvocation' -benchtime "${BENCHTIME:-5x}" -v ./bench/)
printf '%s\n' "$out" | awk '
function suite(label,   i) {
	for (i = 1; i <= NF; i++) { if ($(i+1) == "p1-ms/op") p1 = $i; if ($(i+1) == "p8-ms/op") p8 = $i; if ($(i+1) == "p8/p1") r = $i; if ($(i+1) == "median-p8/p1") m = $i
	                            if ($(i+1) == "p1-cores") c1 = $i; if ($(i+1) == "p8-cores") c8 = $i; if ($(i+1) == "least-p8/p1") l = $i }
	printf "%s --parallel 1 %s ms, --parallel 8 %s ms, ratio %s, median of pairs %s\n", label, p1, p8, r, m
	printf "%-41s cores busy: %s with --parallel 1, %s with --parallel 8; least ratio this CPU work allows here: %s\n", "", c1, c8, l
}
/^BenchmarkSuite50-/        { suite("suite of 50, embedded provider:         ") }
/^BenchmarkSuite50Latency-/ { suite("suite of 50, provider +20 ms/response:  ") }
/^BenchmarkRefreshInvocation-/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "ns/op") ns = $i; if ($(i+1) == "requests/op") rq = $i }
                              printf "claimcheck --grant refresh_token:        %.1f ms from process start to verdict, %s HTTP requests\n", ns / 1e6, rq }
/requests of one invocation/ && !seen++ { sub(/.*requests of one invocation: /, ""); paths = $0 }
END { if (paths != "") printf "  its requests: %s\n", paths }
'
printf 'cores: %s\n' "$(nproc 2>/dev/null || echo '?')"

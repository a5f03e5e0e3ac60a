#!/bin/sh
# Prints the suite and refresh-token figures of issue 6: a 50-case suite
# against the embedded demo provider with --parallel 8 against --parallel 1
# (measured in the same run; goal: ratio <= 0.35), the same against the
# provider with 20 ms added per response, and one `claimcheck --grant
# refresh_token` invocation (wall time from process start, and the HTTP
# requests it made). Runs niced: the machine is shared.
set -eu
cd "$(dirname "$0")/.."
out=$(nice -n 19 go test -run '^$' -bench 'Suite50|RefreshInvocation' -benchtime "${BENCHTIME:-5x}" -v ./bench/)
printf '%s\n' "$out" | awk '
/^BenchmarkSuite50-/        { for (i = 1; i <= NF; i++) { if ($(i+1) == "p1-ms/op") p1 = $i; if ($(i+1) == "p8-ms/op") p8 = $i; if ($(i+1) == "p8/p1") r = $i; if ($(i+1) == "median-p8/p1") m = $i }
                              printf "suite of 50, embedded provider:          --parallel 1 %s ms, --parallel 8 %s ms, ratio %s, median of pairs %s (goal <= 0.35)\n", p1, p8, r, m }
/^BenchmarkSuite50Latency-/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "p1-ms/op") p1 = $i; if ($(i+1) == "p8-ms/op") p8 = $i; if ($(i+1) == "p8/p1") r = $i; if ($(i+1) == "median-p8/p1") m = $i }
                              printf "suite of 50, provider +20 ms/response:   --parallel 1 %s ms, --parallel 8 %s ms, ratio %s, median of pairs %s\n", p1, p8, r, m }
/^BenchmarkRefreshInvocation-/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "ns/op") ns = $i; if ($(i+1) == "requests/op") rq = $i }
                              printf "claimcheck --grant refresh_token:        %.1f ms from process start to verdict, %s HTTP requests\n", ns / 1e6, rq }
/requests of one invocation/ && !seen++ { sub(/.*requests of one invocation: /, ""); paths = $0 }
END { if (paths != "") printf "  its requests: %s\n", paths }
'
printf 'cores: %s\n' "$(nproc 2>/dev/null || echo '?')"

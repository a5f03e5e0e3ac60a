#!/usr/bin/env bash
# bench/verify.sh: streaming verify figures, in one run, printed as a table.
#   - for each algorithm of ALGS (default RS256 ES256 PS256 EdDSA): the raw
#     verification rate on all CPUs (crypto/rsa, crypto/ecdsa or
#     crypto/ed25519, bench/rawrate -alg) and claimcheck verify - over N
#     tokens (default 100000) signed with it: throughput, ratio to raw, JWKS
#     and discovery requests (counted by the issuer), peak RSS
#   - RS256 over 10*N tokens: peak RSS again (flat memory; /usr/bin/time -v
#     on the real binary)
#   - with STEP=path/to/step: 1,000 tokens, claimcheck verify - against
#     step crypto jwt verify --jwks once per token; and one code flow with
#     an HTTP-only stand-in browser, claimcheck against step oauth
#     (bench/flowcmp: wall time and the requests the provider received)
# Everything runs under nice -n 19 (the machine is shared). The stream and
# the raw rate are measured together, ROUNDS times (default 5): bench/turns
# runs both at once, each in turn for SLICE (default 50ms) while the other
# is stopped, so that both see the same machine however fast its CPUs are
# from one second to the next; each one's rate is its work over the time it
# ran (the wall ratio) and over the CPU time it used (the CPU ratio). The
# median round is the figure. Compare ratios within one run, not figures
# across runs.
set -euo pipefail
N=${N:-100000}
BIG=${BIG:-$((N * 10))}
RAW_SECONDS=${RAW_SECONDS:-2s}
ROUNDS=${ROUNDS:-5}
SLICE=${SLICE:-50ms}
ALGS=${ALGS:-RS256 ES256 PS256 EdDSA}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
gen_pid=
big_gen=
trap 'kill $gen_pid $big_gen 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/" ./cmd/claimcheck ./bench/tokengen ./bench/rawrate ./bench/turns ./bench/flowcmp

start_issuer() { # $1 tokens  $2 file  $3 issuer-file  $4 alg; sets gen_pid
	rm -f "$3"
	"$work/tokengen" -alg "$4" -n "$1" -out "$2" -issuer-file "$3" -jwks-out "$work/jwks.json" >"$work/gen.log" 2>&1 &
	gen_pid=$!
	for _ in $(seq 1200); do [ -s "$3" ] && break; sleep 0.1; done
	[ -s "$3" ] || { echo "tokengen did not start" >&2; cat "$work/gen.log" >&2; exit 1; }
}
stat_of() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" <<<"$(curl -s "$1/stats")"; }
measure() { # $1 tokens file, $2 issuer; sets wall rss
	nice -n 19 /usr/bin/time -v "$work/claimcheck" verify - --issuer "$2" --client-id bench \
		--expect-groups IT,Everyone <"$1" >"$work/out.jsonl" 2>"$work/time.txt"
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
	cpu=$(awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { print s }' "$work/time.txt")
	ok=$(grep -c '"ok":true' "$work/out.jsonl" || true)
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# For each algorithm, ROUNDS rounds of verify - of N tokens taking turns
# with the raw rate; the median round is the figure.
summary=()
for alg in $ALGS; do
	start_issuer "$N" "$work/tokens-$alg.txt" "$work/issuer-$alg.txt" "$alg"
	iss=$(cat "$work/issuer-$alg.txt")
	ratios=() cpuratios=() rows=()
	jwks=0 disc=0 rss100=0 ok100=
	for r in $(seq "$ROUNDS"); do
		j0=$(stat_of "$iss" jwks) d0=$(stat_of "$iss" discovery)
		nice -n 19 "$work/turns" -raw "$work/rawrate" -alg "$alg" -n "$N" -in "$work/tokens-$alg.txt" -out "$work/out.jsonl" \
			-slice "$SLICE" -- "$work/claimcheck" verify - --issuer "$iss" --client-id bench --expect-groups IT,Everyone \
			>"$work/turns.txt" 2>"$work/turns.err" || { cat "$work/turns.err" >&2; exit 1; }
		read -r rate cpurate raw rawcpu ratio cratio rss _ <"$work/turns.txt"
		ok=$(grep -c '"ok":true' "$work/out.jsonl" || true)
		j=$(($(stat_of "$iss" jwks) - j0)) d=$(($(stat_of "$iss" discovery) - d0))
		[ "$j" -gt "$jwks" ] && jwks=$j
		[ "$d" -gt "$disc" ] && disc=$d
		[ "$rss" -gt "$rss100" ] && rss100=$rss
		[ -z "$ok100" ] || [ "$ok" -lt "$ok100" ] && ok100=$ok
		ratios+=("$ratio") cpuratios+=("$cratio")
		rows+=("$(printf '%-7s %-6s %10s %10s %10s %10s %8s %8s' "$r" "$alg" "$raw" "$rawcpu" "$rate" "$cpurate" "$ratio" "$cratio")")
	done
	printf '\nverify - of %s %s tokens taking turns with the raw %s rate, %s rounds (rates per second of turns and per CPU-second):\n' "$N" "$alg" "$alg" "$ROUNDS"
	printf '%-7s %-6s %10s %10s %10s %10s %8s %8s\n' "round" "alg" "raw/s" "raw/CPU-s" "tokens/s" "tok/CPU-s" "wall" "CPU"
	printf '%s\n' "${rows[@]}"
	summary+=("$(printf '%-7s %12s %12s %8s %6s %6s %10s' "$alg" "$(median "${ratios[@]}")" "$(median "${cpuratios[@]}")" "$ok100" "$jwks" "$disc" "$(awk -v k="$rss100" 'BEGIN { printf "%.1f", k / 1024 }')")")
	if [ "$alg" = RS256 ] || [ -z "${iss2:-}" ]; then
		# The big run and the step comparison use the RS256 tokens (or the
		# first algorithm's when RS256 is not among ALGS).
		[ -n "${big_gen:-}" ] && kill "$big_gen" 2>/dev/null
		iss2=$iss big_src="$work/tokens-$alg.txt" big_gen=$gen_pid
	else
		kill "$gen_pid" 2>/dev/null || true
	fi
done
gen_pid=$big_gen
printf '\nper algorithm, median of %s rounds (ratio to the raw rate of the same algorithm):\n' "$ROUNDS"
printf '%-7s %12s %12s %8s %6s %6s %10s\n' "alg" "wall ratio" "CPU ratio" "passed" "JWKS" "disc." "RSS (MB)"
printf '%s\n' "${summary[@]}"

# The big run reads the same tokens BIG/N times over; its JWKS requests
# are the issuer's count after it minus before.
for _ in $(seq $((BIG / N))); do cat "$big_src"; done >"$work/big.txt"
j0=$(stat_of "$iss2" jwks)
measure "$work/big.txt" "$iss2"
wallbig=$wall rssbig=$rss okbig=$ok
jwks2=$(($(stat_of "$iss2" jwks) - j0))
ratebig=$(awk -v n="$BIG" -v w="$wallbig" 'BEGIN { printf "%.0f", n / w }')

printf '\n%-44s %14s\n' "measure" "value"
printf '%-44s %14s\n' "--------------------------------------------" "--------------"
printf '%-44s %14s\n' "CPUs" "$(nproc)"
printf '%-44s %14s\n' "verify - $BIG tokens: throughput (/s)" "$ratebig"
printf '%-44s %14s\n' "verify - $BIG tokens: passed" "$okbig"
printf '%-44s %14s\n' "JWKS requests ($BIG tokens)" "$jwks2"
printf '%-44s %14s\n' "peak RSS, $BIG tokens (MB)" "$(awk -v k="$rssbig" 'BEGIN { printf "%.1f", k / 1024 }')"

if [ -n "${STEP:-}" ]; then
	M=${M:-1000}
	head -n "$M" "$work/big.txt" >"$work/m.txt"
	t0=$(date +%s.%N)
	nice -n 19 "$work/claimcheck" verify - --issuer "$iss2" --client-id bench --expect-groups IT,Everyone <"$work/m.txt" >"$work/m.jsonl" 2>/dev/null
	t1=$(date +%s.%N)
	curl -s "$iss2/keys" >"$work/jwks2.json"
	fails=0
	t2=$(date +%s.%N)
	while read -r tok; do
		nice -n 19 "$STEP" crypto jwt verify --jwks "$work/jwks2.json" --iss "$iss2" --aud bench <<<"$tok" >/dev/null 2>&1 || fails=$((fails + 1))
	done <"$work/m.txt"
	t3=$(date +%s.%N)
	cc=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	st=$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.2f", b - a }')
	printf '%-44s %14s\n' "$M tokens: claimcheck verify - (s)" "$cc"
	printf '%-44s %14s\n' "$M tokens: claimcheck passed" "$(grep -c '"ok":true' "$work/m.jsonl" || true)"
	printf '%-44s %14s\n' "$M tokens: step crypto jwt verify x$M (s)" "$st"
	printf '%-44s %14s\n' "$M tokens: step failures" "$fails"
	printf '%-44s %14s\n' "step time / claimcheck time" "$(awk -v a="$st" -v b="$cc" 'BEGIN { printf "%.1f", a / b }')"
fi
if [ -n "${STEP:-}" ]; then
	nice -n 19 "$work/flowcmp" -claimcheck "$work/claimcheck" -step "$STEP" -n "${FLOWS:-10}"
fi

#!/usr/bin/env bash
# Installs what claimcheck's e2e tests (e2e/) need, and only what is missing
# or stale. Idempotent: a second run changes nothing and takes a second.
#
#   scripts/e2e-deps.sh [all | chromium | npm | dex | hydra] ...     (default: all)
#
#   chromium  Debian's chromium (apt-get update && apt-get install -y chromium)
#             when /usr/bin/chromium is missing. Needs root.
#   npm       `npm ci` in e2e/oidc-provider when node_modules is missing or
#             was installed from another package-lock.json or Node version.
#   dex       builds Dex from the pinned tools module e2e/tools/dex into the
#             cache when the cached binary is missing or was built from
#             another go.mod/go.sum or Go version.
#   hydra     builds Ory Hydra from the pinned tools module e2e/tools/hydra
#             the same way (with cgo, for its in-memory SQLite storage).
#
# The cache directory is $CLAIMCHECK_E2E_CACHE, by default
# ${XDG_CACHE_HOME:-$HOME/.cache}/claimcheck-e2e, so that a fresh clone of the
# repository (as CI makes) reuses a Dex or Hydra binary built before. The
# binaries are $cache/dex/dex and $cache/hydra/hydra.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
e2e=$repo/e2e
if [[ -n ${CLAIMCHECK_E2E_CACHE:-} ]]; then
	cache=$CLAIMCHECK_E2E_CACHE
elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
	cache=$XDG_CACHE_HOME/claimcheck-e2e
elif [[ -n ${HOME:-} ]]; then
	cache=$HOME/.cache/claimcheck-e2e
else
	cache=$e2e/.cache
fi

# Dex v2.45.1 is the pseudo-version required in e2e/tools/dex/go.mod; the
# label only fills in `dex version`.
dex_version_label=v2.45.1
dex_build_flags=(-trimpath -buildvcs=false -ldflags "-X main.version=$dex_version_label")

# Hydra v2.3.0 is the version required in e2e/tools/hydra/go.mod. Its
# in-memory storage (dsn: memory) is SQLite, compiled in only with the sqlite
# tag and cgo, as Hydra's own Makefile builds it; the label fills in
# `hydra version`.
hydra_version_label=v2.3.0
hydra_build_flags=(-trimpath -buildvcs=false -tags sqlite,sqlite_omit_load_extension -ldflags "-X github.com/ory/hydra/v2/driver/config.Version=$hydra_version_label")

log() { printf 'e2e-deps: %s\n' "$*"; }
die() {
	printf 'e2e-deps: error: %s\n' "$*" >&2
	exit 1
}

# with_lock FILE CMD...: run CMD holding an exclusive lock on FILE, so that
# concurrent runs (two test packages, two terminals) do not build twice.
with_lock() {
	local file=$1
	shift
	mkdir -p "$(dirname "$file")"
	(
		flock -w 1800 9 || die "could not lock $file within 30 minutes"
		"$@"
	) 9>"$file"
}

install_chromium() {
	if [[ -x /usr/bin/chromium ]]; then
		log "chromium: present ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
		return
	fi
	[[ $(id -u) == 0 ]] || die "chromium: /usr/bin/chromium is missing and installing it needs root: run 'sudo $0 chromium'"
	command -v apt-get >/dev/null || die "chromium: /usr/bin/chromium is missing and there is no apt-get (Debian) to install it"
	local start=$SECONDS attempt
	# Another apt (an unattended upgrade, a provisioning step) may hold the
	# locks: wait for them rather than fail.
	local apt=(apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)
	for attempt in 1 2 3; do
		log "chromium: apt-get update (attempt $attempt)"
		if DEBIAN_FRONTEND=noninteractive "${apt[@]}" update; then
			break
		fi
		[[ $attempt == 3 ]] && die "chromium: apt-get update failed 3 times"
		sleep 10
	done
	for attempt in 1 2 3; do
		log "chromium: apt-get install -y chromium (attempt $attempt)"
		if DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y chromium; then
			break
		fi
		[[ $attempt == 3 ]] && die "chromium: apt-get install failed 3 times"
		sleep 10
	done
	[[ -x /usr/bin/chromium ]] || die "chromium: installed, but /usr/bin/chromium is not there"
	log "chromium: installed $(/usr/bin/chromium --version 2>/dev/null) in $((SECONDS - start))s"
}

npm_stamp() {
	printf '%s\n%s\n' "$(node --version)" "$(sha256sum <"$e2e/oidc-provider/package-lock.json" | cut -d' ' -f1)"
}

install_npm_locked() {
	local dir=$e2e/oidc-provider stamp_file=$e2e/oidc-provider/node_modules/.claimcheck-stamp want
	want=$(npm_stamp)
	if [[ -d $dir/node_modules && -f $stamp_file && $(cat "$stamp_file") == "$want" ]]; then
		log "npm: $dir/node_modules up to date"
		return
	fi
	local start=$SECONDS
	log "npm: npm ci in $dir"
	(cd "$dir" && npm ci --no-audit --no-fund)
	printf '%s\n' "$want" >"$stamp_file"
	log "npm: installed in $((SECONDS - start))s"
}

install_npm() {
	command -v node >/dev/null || die "npm: node is not installed"
	command -v npm >/dev/null || die "npm: npm is not installed"
	with_lock "$cache/npm.lock" install_npm_locked
}

# build_tool_locked NAME LABEL CGO PACKAGE FLAGS... builds PACKAGE from the
# pinned tools module e2e/tools/NAME into $cache/NAME/NAME, unless the
# binary there was built from the same Go version, go.mod, go.sum and flags
# (its stamp). Dex and Hydra are built this way.
build_tool_locked() {
	local name=$1 label=$2 cgo=$3 pkg=$4
	shift 4
	local tools=$e2e/tools/$name bin=$cache/$name/$name stamp_file=$cache/$name/$name.stamp want
	want=$(printf '%s\n%s\n%s\n%s\n' \
		"$(go env GOVERSION)" \
		"$(sha256sum <"$tools/go.mod" | cut -d' ' -f1)" \
		"$(sha256sum <"$tools/go.sum" | cut -d' ' -f1)" \
		"CGO_ENABLED=$cgo $*")
	if [[ -x $bin && -f $stamp_file && $(cat "$stamp_file") == "$want" ]]; then
		log "$name: $bin up to date"
		return
	fi
	local start=$SECONDS
	log "$name: building $label from $tools into $bin (a few minutes the first time)"
	mkdir -p "$cache/$name"
	(cd "$tools" && CGO_ENABLED=$cgo go build "$@" -o "$bin.tmp" "$pkg")
	mv -f "$bin.tmp" "$bin"
	printf '%s\n' "$want" >"$stamp_file"
	log "$name: built in $((SECONDS - start))s: $("$bin" version 2>&1 | head -n 1 | tr -s ' ')"
}

build_dex() {
	command -v go >/dev/null || die "dex: go is not installed"
	with_lock "$cache/dex.lock" build_tool_locked dex "$dex_version_label" 0 github.com/dexidp/dex/cmd/dex "${dex_build_flags[@]}"
}

build_hydra() {
	command -v go >/dev/null || die "hydra: go is not installed"
	# go-sqlite3 is C: without a C compiler the build fails deep in cgo.
	command -v "$(go env CC)" >/dev/null || die "hydra: no C compiler ($(go env CC)) for its SQLite storage: apt-get install gcc"
	with_lock "$cache/hydra.lock" build_tool_locked hydra "$hydra_version_label" 1 github.com/ory/hydra/v2 "${hydra_build_flags[@]}"
}

steps=("$@")
[[ ${#steps[@]} == 0 ]] && steps=(all)
for step in "${steps[@]}"; do
	case $step in
	all)
		install_chromium
		install_npm
		build_dex
		build_hydra
		;;
	chromium) install_chromium ;;
	npm) install_npm ;;
	dex) build_dex ;;
	hydra) build_hydra ;;
	*) die "unknown step '$step' (want all, chromium, npm, dex or hydra)" ;;
	esac
done

#!/usr/bin/env bash
# testbin.sh builds the real tools agentctl's tests run against, from the
# Go toolchain and the Go module proxy only, into a cache outside the
# repository (so nothing built is ever committed):
#
#   $AGENTCTL_TESTBIN/k8s-<version>/kube-apiserver    testdata/cluster
#   $AGENTCTL_TESTBIN/k8s-<version>/kubectl           testdata/cluster, upstream
#   $AGENTCTL_TESTBIN/k8s-<version>/kube-controller-manager, kube-scheduler
#                                                     testdata/cluster (the
#                                                     converging cluster)
#   $AGENTCTL_TESTBIN/kwok-v0.8.0/kwok                simulated nodes and pods
#   $AGENTCTL_TESTBIN/kwok-v0.8.0/kwok-stages.yaml    kwok's default Stages
#   $AGENTCTL_TESTBIN/etcd-<version>/etcd             testdata/etcd
#   $AGENTCTL_TESTBIN/terraform-v1.5.7/terraform
#   $AGENTCTL_TESTBIN/testcloud-<hash>/terraform-provider-testcloud
#                                                     testdata/testcloud, keyed on
#                                                     a hash of its sources
#   $AGENTCTL_TESTBIN/tofu-<version>/tofu             testdata/tofu
#   $AGENTCTL_TESTBIN/goreleaser-v2.16.0/goreleaser   (release-check.sh)
#   $AGENTCTL_TESTBIN/otelcol-<hash>/otelcol          testdata/otelcol: the
#                                                     collector's OTLP receiver
#   $AGENTCTL_TESTBIN/npm-<hash>/mcp-inspector        testdata/npm: the npm tools
#   $AGENTCTL_TESTBIN/npm-<hash>/claude, codex        (the MCP Inspector CLI, the
#                                                     agent CLIs' native binaries),
#                                                     with npm from the npm registry
#
# AGENTCTL_TESTBIN defaults to $HOME/.cache/agentctl/testbin; pkg/testenv
# finds the binaries by the same rules. What is there is not built again,
# so only the first run is slow (see docs/testing.md for how slow). The
# components build side by side, AGENTCTL_BUILD_JOBS at a time (default 2:
# on 2 cores one build's module downloads and single-threaded link overlap
# the other's compiling), longest first, while the modules of those still
# waiting download in the background. Each prints one line when it starts
# and one when it is done, with its time and the total; a line a minute
# says what is still building. A component's build output goes to
# $AGENTCTL_TESTBIN/.logs/<name>.log and is printed when it fails.
#
# Each component is built under a lock of its own: a second run of this
# script, or of another that builds the same component, waits for the
# first and then finds it built.
#
# Usage: testbin.sh [-q] [COMPONENT]...   (default: all; components: k8s
# etcd kwok terraform testcloud tofu goreleaser otelcol npm; -q: say nothing of
# what is there already).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}
jobs=${AGENTCTL_BUILD_JOBS:-2}
quiet=false
if [[ ${1:-} == -q ]]; then
	quiet=true
	shift
fi
mkdir -p "$cache/.logs"

TF_VERSION=v1.5.7
GORELEASER_VERSION=v2.16.0
KWOK_VERSION=v0.8.0

# Every build: no cgo, no debug information (a faster link), no local
# paths; built with the Go installed, never another toolchain.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off
buildflags=(-trimpath -ldflags=-s\ -w)

modversion() { # modversion MODULE_DIR MODULE_PATH
	(cd "$root/testdata/$1" && go list -m -f '{{.Version}}' "$2")
}

src_hash() { # src_hash DIR: a hash of testdata/DIR's Go sources (pkg/testenv's sourceHash)
	(cd "$root/testdata/$1" &&
		find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum -o -name package.json \) |
		LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
}

# describe NAME sets label (what it is, with its version) and outs (the
# binaries it makes).
describe() {
	case $1 in
	k8s)
		local v
		v=$(modversion cluster k8s.io/kubernetes)
		label="kube-apiserver, kubectl, kube-controller-manager, kube-scheduler (k8s $v)"
		outs=("$cache/k8s-$v/kube-apiserver" "$cache/k8s-$v/kubectl"
			"$cache/k8s-$v/kube-controller-manager" "$cache/k8s-$v/kube-scheduler")
		;;
	etcd)
		local v
		v=$(modversion etcd go.etcd.io/etcd/server/v3)
		label="etcd $v"
		outs=("$cache/etcd-$v/etcd")
		;;
	kwok)
		label="kwok $KWOK_VERSION"
		outs=("$cache/kwok-$KWOK_VERSION/kwok" "$cache/kwok-$KWOK_VERSION/kwok-stages.yaml")
		;;
	terraform)
		label="terraform $TF_VERSION"
		outs=("$cache/terraform-$TF_VERSION/terraform")
		;;
	testcloud)
		label="testcloud (the test provider)"
		outs=("$cache/testcloud-$(src_hash testcloud)/terraform-provider-testcloud")
		;;
	tofu)
		local v
		v=$(modversion tofu github.com/opentofu/opentofu)
		label="tofu $v"
		outs=("$cache/tofu-$v/tofu")
		;;
	goreleaser)
		label="goreleaser $GORELEASER_VERSION"
		outs=("$cache/goreleaser-$GORELEASER_VERSION/goreleaser")
		;;
	otelcol)
		local v
		v=$(modversion otelcol go.opentelemetry.io/collector/receiver/otlpreceiver)
		label="otelcol (the collector's OTLP receiver $v)"
		outs=("$cache/otelcol-$(src_hash otelcol)/otelcol")
		;;
	npm)
		label="npm tools (testdata/npm: the MCP Inspector, claude, codex)"
		local d
		d="$cache/npm-$(src_hash npm)"
		outs=("$d/mcp-inspector" "$d/claude" "$d/codex")
		;;
	*)
		echo "testbin.sh: unknown component \"$1\" (want k8s, etcd, kwok, terraform, testcloud, tofu, goreleaser, otelcol or npm)" >&2
		exit 2
		;;
	esac
}

have() { # have OUT...: all exist (binaries executable)
	local o
	for o in "$@"; do [[ -x $o || ($o == *.yaml && -f $o) ]] || return 1; done
}

# compile NAME DIR: build NAME's binaries into DIR. -n (as the first
# argument): only print the commands, which downloads what the build needs.
compile() {
	local n=()
	if [[ $1 == -n ]]; then
		n=(-n)
		shift
	fi
	local name=$1 dir=$2
	case $name in
	k8s)
		(cd "$root/testdata/cluster" && go build "${n[@]}" "${buildflags[@]}" -o "$dir/" \
			k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl \
			k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler) ;;
	etcd)
		(cd "$root/testdata/etcd" && go build "${n[@]}" "${buildflags[@]}" -o "$dir/etcd" go.etcd.io/etcd/server/v3) ;;
	otelcol)
		(cd "$root/testdata/otelcol" && go build "${n[@]}" "${buildflags[@]}" -o "$dir/otelcol" .) ;;
	testcloud)
		(cd "$root/testdata/testcloud" && go build "${n[@]}" "${buildflags[@]}" -o "$dir/terraform-provider-testcloud" .) ;;
	# OpenTofu's go.mod replaces hcl with its fork, so `go install` refuses
	# it: testdata/tofu requires it with the same replace.
	tofu)
		(cd "$root/testdata/tofu" && go build "${n[@]}" "${buildflags[@]}" -o "$dir/tofu" github.com/opentofu/opentofu/cmd/tofu) ;;
	# Outside any module, so the main go.mod is neither read nor changed.
	terraform)
		(cd "$dir" && GOBIN="$dir" GOFLAGS=-mod=mod go install "${n[@]}" "${buildflags[@]}" "github.com/hashicorp/terraform@$TF_VERSION") ;;
	# Exactly the versions testdata/npm/package.json names, no lock file
	# (one would record download addresses), no install scripts (Claude
	# Code's own, which only links the native binary its platform package
	# brought, runs by name); the inspector gets a wrapper that finds its
	# package beside it, the agent CLIs a hard link to their native
	# binaries. -n: nothing to fetch ahead.
	npm)
		[[ ${#n[@]} == 0 ]] || return 0
		command -v npm >/dev/null 2>&1 || {
			echo "testbin: missing npm: install Node.js and npm (apt-get install nodejs npm)" >&2
			return 1
		}
		cp "$root/testdata/npm/package.json" "$dir/"
		(cd "$dir" && npm install --no-audit --no-fund --no-package-lock --ignore-scripts --omit=dev --loglevel=error)
		printf '#!/bin/sh\nexec node "$(dirname "$0")/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js" "$@"\n' >"$dir/mcp-inspector"
		chmod +x "$dir/mcp-inspector"
		(cd "$dir" && node node_modules/@anthropic-ai/claude-code/install.cjs >/dev/null)
		ln "$dir/node_modules/@anthropic-ai/claude-code/bin/claude.exe" "$dir/claude"
		ln "$dir/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex" "$dir/codex" ;;
	# kwok's go.mod has no replace directives, so it installs like terraform.
	# Standalone kwok plays only the Stages its config names (kwokctl
	# writes them): kwok-stages.yaml is the release's own default set,
	# from the module go install downloaded (nodes become Ready and keep
	# a lease, pods Running and Ready, a Job's pods Succeeded, deleted
	# pods gone).
	kwok)
		(cd "$dir" && GOBIN="$dir" GOFLAGS=-mod=mod go install "${n[@]}" "${buildflags[@]}" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
		[[ ${#n[@]} == 0 ]] || return 0
		local src f
		src=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
		[[ -n $src ]] || { echo "testbin: kwok: no module directory" >&2; return 1; }
		for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
			pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
			echo ---
			cat "$src/kustomize/stage/$f.yaml"
		done >"$dir/kwok-stages.yaml" ;;
	goreleaser)
		(cd "$dir" && GOBIN="$dir" GOFLAGS=-mod=mod go install "${n[@]}" "${buildflags[@]}" "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION") ;;
	esac
}

# build NAME: build one component under its lock, into a temporary
# directory first, so that a binary in the cache is always whole.
build() {
	local name=$1 label outs o
	describe "$name"
	exec 9>"$cache/.lock-$name"
	flock 9
	if have "${outs[@]}"; then
		return 0
	fi
	tmp=$(mktemp -d "$cache/.tmp-$name.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	compile "$name" "$tmp"
	if [[ $name == npm ]]; then # the packages with the wrappers, whole
		rm -rf "$(dirname "${outs[0]}")"
		mv "$tmp" "$(dirname "${outs[0]}")"
		chmod 755 "$(dirname "${outs[0]}")"
		return 0
	fi
	for o in "${outs[@]}"; do
		mkdir -p "$(dirname "$o")"
		mv -f "$tmp/$(basename "$o")" "$o"
	done
}

# The modes this script runs itself in, each in a process group of its
# own (setsid) that an interrupted run stops whole.
case ${1:-} in
--one)
	build "$2"
	exit
	;;
--prefetch)
	shift
	for name in "$@"; do
		pdir=$(mktemp -d)
		compile -n "$name" "$pdir" >/dev/null 2>&1 || true
		rm -rf "$pdir"
	done
	exit 0
	;;
esac

elapsed() { # elapsed SECONDS: 1m05s
	printf '%dm%02ds' $(($1 / 60)) $(($1 % 60))
}

# Longest first: the order the first run should start them in.
all=(k8s tofu terraform goreleaser etcd kwok otelcol testcloud npm)
if (($# == 0)); then
	set -- "${all[@]}"
fi

# What is missing, in the order given.
todo=()
for name in "$@"; do
	describe "$name"
	if have "${outs[@]}"; then
		$quiet || echo "testbin: have $label"
	else
		todo+=("$name")
	fi
done
if ((${#todo[@]} == 0)); then
	exit 0
fi

command -v go >/dev/null 2>&1 || {
	echo "testbin: missing go: install Go (the version go.mod names) and run this again" >&2
	exit 1
}
command -v flock >/dev/null 2>&1 || {
	echo "testbin: missing flock: install it (apt-get install util-linux)" >&2
	exit 1
}

total=${#todo[@]}
start=$SECONDS
echo "testbin: building ${todo[*]} into $cache, $jobs at a time (the first run on 2 cores takes about 30 minutes; docs/testing.md)"

# The modules of every component but the first ones download in the
# background: a build that starts later then starts compiling at once.
prefetch_pid=
if ((total > jobs)); then
	setsid bash "$0" --prefetch "${todo[@]:jobs}" &
	prefetch_pid=$!
fi

declare -A pid_of label_of index_of started_at
failed=()
next=0
running=()
last_beat=$SECONDS

start_next() {
	local name=${todo[next]} label outs
	describe "$name"
	next=$((next + 1))
	index_of[$name]=$next
	label_of[$name]=$label
	started_at[$name]=$SECONDS
	echo "[$next/$total] building $label..."
	setsid bash "$0" --one "$name" >"$cache/.logs/$name.log" 2>&1 &
	pid_of[$name]=$!
	running+=("$name")
}

finish() { # finish NAME: it has exited
	local name=$1 rc=0
	wait "${pid_of[$name]}" || rc=$?
	local took=$((SECONDS - started_at[$name]))
	if ((rc == 0)); then
		echo "[${index_of[$name]}/$total] ${label_of[$name]}: built in $(elapsed $took) (total $(elapsed $((SECONDS - start))))"
	else
		echo "[${index_of[$name]}/$total] ${label_of[$name]}: FAILED after $(elapsed $took) (exit $rc); the end of $cache/.logs/$name.log:" >&2
		tail -n 30 "$cache/.logs/$name.log" >&2
		failed+=("$name")
	fi
}

stop() { # stop PID: its process group
	[[ -z $1 ]] || kill -- "-$1" 2>/dev/null || true
}
cleanup() {
	local name
	for name in "${running[@]}"; do
		stop "${pid_of[$name]}"
	done
	stop "$prefetch_pid"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

while ((next < total || ${#running[@]} > 0)); do
	while ((next < total && ${#running[@]} < jobs)); do
		start_next
	done
	sleep 1
	still=()
	for name in "${running[@]}"; do
		if kill -0 "${pid_of[$name]}" 2>/dev/null; then
			still+=("$name")
		else
			finish "$name"
		fi
	done
	running=("${still[@]}")
	if ((SECONDS - last_beat >= 60 && ${#running[@]} > 0)); then
		last_beat=$SECONDS
		line=
		for name in "${running[@]}"; do
			line+="${line:+, }${label_of[$name]} for $(elapsed $((SECONDS - started_at[$name])))"
		done
		echo "testbin: $(elapsed $((SECONDS - start))): still building $line"
	fi
done
trap - EXIT
stop "$prefetch_pid"

if ((${#failed[@]})); then
	echo "testbin: failed: ${failed[*]}" >&2
	exit 1
fi
echo "testbin: done in $(elapsed $((SECONDS - start))) ($cache)"

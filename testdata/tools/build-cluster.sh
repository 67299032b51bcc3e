#!/usr/bin/env bash
# build-cluster.sh builds the binaries of agentctl's end-to-end test cluster
# from source, with the Go toolchain and the Go module proxy only:
#
#   $AGENTCTL_TESTBIN/k8s-<version>/kube-apiserver   (testdata/cluster)
#   $AGENTCTL_TESTBIN/k8s-<version>/kubectl          (testdata/cluster, upstream)
#   $AGENTCTL_TESTBIN/etcd-<version>/etcd            (testdata/etcd)
#
# AGENTCTL_TESTBIN defaults to $HOME/.cache/agentctl/testbin (outside the
# repository, so nothing built is ever committed). The versions are the ones
# the two modules' go.mod files require. A binary that is already there is
# not built again, so only the first run is slow (several minutes on 2 cores).
# pkg/testenv finds the binaries by the same rules.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}
mkdir -p "$cache"

# One build at a time: a second run waits for the first, then skips.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache/.build.lock"
	flock 9
fi

version() { # version MODULE_DIR MODULE_PATH
	(cd "$root/testdata/$1" && go list -m -f '{{.Version}}' "$2")
}

build() { # build MODULE_DIR PACKAGE OUTPUT
	local dir=$1 pkg=$2 out=$3
	if [[ -x $out ]]; then
		echo "build-cluster: have $out"
		return
	fi
	echo "build-cluster: building $pkg -> $out"
	mkdir -p "$(dirname "$out")"
	local tmp="$out.tmp.$$"
	trap 'rm -f "$tmp"' EXIT
	(cd "$root/testdata/$dir" &&
		CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp" "$pkg")
	mv -f "$tmp" "$out"
	trap - EXIT
}

k8s=$(version cluster k8s.io/kubernetes)
etcd=$(version etcd go.etcd.io/etcd/server/v3)

build etcd go.etcd.io/etcd/server/v3 "$cache/etcd-$etcd/etcd"
build cluster k8s.io/kubernetes/cmd/kube-apiserver "$cache/k8s-$k8s/kube-apiserver"
build cluster k8s.io/kubernetes/cmd/kubectl "$cache/k8s-$k8s/kubectl"
echo "build-cluster: done ($cache)"

#!/bin/sh
# release-check.sh checks the release configuration (.goreleaser.yaml) and
# builds a snapshot release from the working tree, publishing nothing:
#
#   goreleaser check
#   goreleaser release --snapshot --clean --skip=publish
#
# The snapshot (4 archives, checksums, .deb and .rpm packages) lands in
# dist/, which git ignores. goreleaser itself is built from the Go module
# proxy into a cache outside the repository, once (testbin.sh):
#
#   $AGENTCTL_TESTBIN/goreleaser-v2.16.0/goreleaser
#
# AGENTCTL_TESTBIN defaults to $HOME/.cache/agentctl/testbin.
# Usage: release-check.sh [check]   (check: only validate the configuration)
set -eu

GORELEASER_VERSION=v2.16.0
cache=${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$cache/goreleaser-$GORELEASER_VERSION"
goreleaser="$dir/goreleaser"

bash "$root/testdata/tools/testbin.sh" -q goreleaser
echo "goreleaser $GORELEASER_VERSION: $goreleaser"

cd "$root"
"$goreleaser" check
if [ "${1:-}" = check ]; then
	exit 0
fi
"$goreleaser" release --snapshot --clean --skip=publish
# What a user downloads must carry what the docs promise.
for a in dist/agentctl_*_linux_amd64.tar.gz dist/agentctl_*_darwin_arm64.tar.gz; do
	for want in agentctl LICENSE completions/agentctl.bash completions/_agentctl \
		completions/agentctl.fish policies/default.yaml docs/install.md; do
		if ! tar -tzf "$a" | grep -qx "$want"; then
			echo "release-check: $a lacks $want" >&2
			exit 1
		fi
	done
done
ls dist/*.tar.gz dist/*.deb dist/*.rpm dist/checksums.txt
(cd dist && sha256sum -c checksums.txt)

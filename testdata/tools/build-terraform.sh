#!/bin/sh
# build-terraform.sh builds the real tools the terraform tests run against,
# into a cache outside the repository:
#
#   $AGENTCTL_TESTBIN/terraform-v1.5.7/terraform
#       terraform v1.5.7, built from the Go module proxy
#   $AGENTCTL_TESTBIN/testcloud-<hash>/terraform-provider-testcloud
#       the test provider in testdata/testcloud, keyed on a hash of its
#       sources so that an edit rebuilds it
#
# AGENTCTL_TESTBIN defaults to $HOME/.cache/agentctl/testbin. What exists is
# not rebuilt. Usage: build-terraform.sh [terraform|testcloud]...
set -eu

TF_VERSION=v1.5.7
cache=${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}
root=$(cd "$(dirname "$0")/../.." && pwd)

build_terraform() {
	dir="$cache/terraform-$TF_VERSION"
	if [ -x "$dir/terraform" ]; then
		echo "terraform $TF_VERSION: $dir/terraform (cached)"
		return
	fi
	mkdir -p "$dir"
	echo "terraform $TF_VERSION: building (this takes a few minutes)"
	# Outside any module, so the main go.mod is neither read nor changed.
	(cd "$dir" && GOBIN="$dir" GOFLAGS=-mod=mod GOWORK=off \
		go install "github.com/hashicorp/terraform@$TF_VERSION")
	echo "terraform $TF_VERSION: $dir/terraform"
}

# testcloud_hash prints a short hash of the provider's sources.
# OpenTofu has a replace directive (its hcl fork), so `go install` refuses
# it: testdata/tofu is a module that pins it with the same replace.
build_tofu() {
	version=$(cd "$root/testdata/tofu" && GOWORK=off go list -m -f '{{.Version}}' github.com/opentofu/opentofu)
	dir="$cache/tofu-$version"
	if [ -x "$dir/tofu" ]; then
		echo "tofu $version: $dir/tofu (cached)"
		return
	fi
	mkdir -p "$dir"
	echo "tofu $version: building (this takes a few minutes)"
	(cd "$root/testdata/tofu" && GOWORK=off CGO_ENABLED=0 \
		go build -trimpath -ldflags='-s -w' -o "$dir/tofu.tmp" github.com/opentofu/opentofu/cmd/tofu)
	mv -f "$dir/tofu.tmp" "$dir/tofu"
	echo "tofu $version: $dir/tofu"
}

testcloud_hash() {
	(cd "$root/testdata/testcloud" &&
		find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) |
		LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
}

build_testcloud() {
	dir="$cache/testcloud-$(testcloud_hash)"
	if [ -x "$dir/terraform-provider-testcloud" ]; then
		echo "testcloud: $dir/terraform-provider-testcloud (cached)"
		return
	fi
	mkdir -p "$dir"
	echo "testcloud: building"
	(cd "$root/testdata/testcloud" && GOWORK=off \
		go build -o "$dir/terraform-provider-testcloud" .)
	echo "testcloud: $dir/terraform-provider-testcloud"
}

[ $# -gt 0 ] || set -- terraform testcloud tofu
for what in "$@"; do
	case $what in
	terraform) build_terraform ;;
	testcloud) build_testcloud ;;
	tofu) build_tofu ;;
	*) echo "build-terraform.sh: unknown target \"$what\"" >&2; exit 2 ;;
	esac
done

#!/bin/sh
# build-terraform.sh builds the real tools the terraform tests run against
# (terraform v1.5.7, the test provider testcloud, OpenTofu) into
# ${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}. What is there is not
# built again. testbin.sh does the work; see there.
# Usage: build-terraform.sh [terraform|testcloud|tofu]...
[ $# -gt 0 ] || set -- terraform testcloud tofu
for what in "$@"; do
	case $what in
	terraform | testcloud | tofu) ;;
	*) echo "build-terraform.sh: unknown target \"$what\"" >&2; exit 2 ;;
	esac
done
exec bash "$(dirname "$0")/testbin.sh" "$@"

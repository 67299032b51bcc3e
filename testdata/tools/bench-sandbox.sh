#!/bin/sh
# bench-sandbox.sh measures the read sandbox against the real test cluster
# (pkg/testenv; binaries from build-cluster.sh) and prints the figures that
# docs/sandbox.md reports:
#
#   1. raw kubectl vs `agentctl kubectl get pods` unsandboxed vs sandboxed,
#      median wall time of N runs (default 25, AGENTCTL_BENCH_RUNS), as
#      ratios to raw kubectl;
#   2. sandbox setup alone (BenchmarkSandboxSetup: re-exec, namespaces,
#      forwarders, Landlock, a trivial entry, exit) and what remains on the
#      critical path when the child is prestarted (BenchmarkSandboxPrestarted).
#
# Usage: testdata/tools/bench-sandbox.sh [OUTFILE]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${1:-$tmp/figures.md}

cd "$root"
CGO_ENABLED=0 go build -o "$tmp/agentctl" ./cmd/agentctl
AGENTCTL_BENCH_AGENTCTL="$tmp/agentctl" AGENTCTL_BENCH_OUT="$out" \
	go test -count=1 -run '^TestFigures$' -v ./sandbox/ | grep -v '^=== RUN' >&2
cat "$out"
echo
go test -count=1 -run '^$' -bench 'SandboxSetup|SandboxPrestarted' -benchtime 50x ./sandbox/ |
	grep -E '^Benchmark' | tee -a "$out"

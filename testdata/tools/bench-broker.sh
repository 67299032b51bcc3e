#!/bin/sh
# bench-broker.sh measures what going through the broker costs, in one
# run, as medians and ratios to upstream kubectl and terraform:
#
#   1. against the real test cluster (TestBrokerFigures, pkg/broker):
#      `kubectl get pods` raw (with and without its discovery cache) and
#      sandboxed through agentctl one-shot, through a broker that starts
#      every worker fresh (serve --warm 0) and through one that keeps warm
#      workers (serve --warm 2); `kubectl version --client` the same ways;
#      `kubectl get pods -A` and `terraform plan` on testdata/terraform/fleet
#      (20 instances, applied first) raw, one-shot and through the warm
#      broker. Ratios are to the raw tool of the same run.
#      Commands come AGENTCTL_BENCH_GAP apart (default 300ms), as an
#      agent's do: the warm pool refills in between;
#   2. the latency of 1 and of 64 concurrent clients
#      (BenchmarkConcurrentClients: a trivial worker, p50 and p99).
#
# The CPU column is the process's own (user+sys of it and the children it
# waited for): for a forwarded command, the client's; the worker is the
# broker's child.
# Usage: bench-broker.sh [RUNS] [AGENTCTL]   (default 20 runs)
set -eu

runs=${1:-20}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
agentctl=${2:-}
if [ -z "$agentctl" ]; then
	agentctl="$work/agentctl"
	(cd "$root" && CGO_ENABLED=0 go build -o "$agentctl" ./cmd/agentctl)
fi
cd "$root"
AGENTCTL_BENCH_RUNS="$runs" AGENTCTL_BENCH_AGENTCTL="$agentctl" AGENTCTL_BENCH_OUT="$work/figures.md" \
	go test -count=1 -timeout 30m -run '^TestBrokerFigures$' -v ./pkg/broker/ | grep -v '^=== RUN' >&2
cat "$work/figures.md"
echo
go test -count=1 -run '^$' -bench 'ConcurrentClients' -benchtime 20x ./pkg/broker/ | grep -E '^Benchmark'

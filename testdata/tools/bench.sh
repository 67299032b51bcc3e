#!/usr/bin/env bash
# bench.sh runs every figure agentctl reports, in one run on this machine,
# and prints them as Markdown (docs/benchmarks.md is a copy of one run):
#   - the Go benchmarks of each stage, each beside the upstream work it
#     wraps where there is one (kubectl's own argv parsing and manifest
#     decoding);
#   - end-to-end wall-time ratios against raw kubectl and raw terraform,
#     measured in the same run (bench-sandbox.sh, bench-terraform.sh);
#   - a one-shot start: `agentctl version` against upstream `kubectl
#     version --client` (bench-start.sh).
# Needs the test binaries (make testbin). Takes several minutes.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

echo "# agentctl figures"
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Date: $(date -u +%Y-%m-%d). Go: $(go version | cut -d' ' -f3)."
echo
echo "## Go benchmarks"
echo
echo '```'
go test -count=1 -run '^$' -benchmem \
	-bench 'ClassifyArgv|KubectlParseArgv|ClassifyManifest100|KubectlBuilderManifest100' ./pkg/classify/kubectl/ | grep -E '^Benchmark'
go test -count=1 -run '^$' -benchmem -bench 'ClassifyPlan500|ClassifyPlanCommand' ./pkg/classify/terraform/ | grep -E '^Benchmark'
go test -count=1 -run '^$' -benchmem -bench 'Decide' ./pkg/policy/ | grep -E '^Benchmark'
go test -count=1 -run '^$' -bench 'AppendSynced|AppendBatched|Verify100k' ./pkg/audit/ | grep -E '^Benchmark'
go test -count=1 -run '^$' -bench 'Writer' ./pkg/redact/ | grep -E '^Benchmark'
go test -count=1 -run '^$' -bench 'IssueToUse' ./pkg/credentials/ | grep -E '^Benchmark' || true
# a kubectl get through agentctl mcp (one session) vs the one-shot CLI: mcp/cli
AGENTCTL_E2E=1 CGO_ENABLED=0 go test -count=1 -run '^$' -bench 'MCPCallOverCLI' -benchtime 20x ./pkg/e2e/ | grep -E '^Benchmark' || true
echo '```'
echo
echo "## kubectl: raw vs agentctl, unsandboxed and sandboxed"
echo
bash testdata/tools/bench-sandbox.sh 2>/dev/null
echo
echo "## terraform plan: raw vs agentctl"
echo
echo '```'
bash testdata/tools/bench-terraform.sh 2>/dev/null | tail -4
echo '```'
echo
echo "## start: agentctl version vs kubectl version --client"
echo
bash testdata/tools/bench-start.sh 2>/dev/null

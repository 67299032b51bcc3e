#!/bin/sh
# bench-start.sh measures what a one-shot agentctl costs before it does
# any work: `agentctl version` against upstream `kubectl version --client`
# (the kubectl that build-cluster.sh built), in the same run, as medians
# and ratios to kubectl:
#
#   kubectl version --client        upstream kubectl: its start, nothing else
#   agentctl --help                 agentctl's start, nothing else
#   agentctl version, no terraform  its start and the sandbox probe child
#   agentctl version                the same and `terraform version -json`
#                                   (terraform v1.5.7 from build-terraform.sh)
#
# Uses hyperfine when installed (which also reports the CPU time, steadier
# than the wall time on a loaded machine), else a loop of RUNS runs per
# command.
# Usage: bench-start.sh [RUNS] [AGENTCTL]   (default 40 runs; AGENTCTL: a
# built binary to measure instead of building ./cmd/agentctl)
set -eu

runs=${1:-40}
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}
kubectl=$(ls "$cache"/k8s-*/kubectl | head -n 1)
tf="$cache/terraform-v1.5.7/terraform"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
agentctl=${2:-}
if [ -z "$agentctl" ]; then
	agentctl="$work/agentctl"
	(cd "$root" && CGO_ENABLED=0 go build -o "$agentctl" ./cmd/agentctl)
fi
# Nothing of the caller's: no terraform but the one named, no config.
export HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" \
	XDG_CACHE_HOME="$work/cache" CHECKPOINT_DISABLE=1
unset KUBECONFIG
if [ -x "$tf" ]; then
	export AGENTCTL_TERRAFORM="$tf"
fi
notf="env -u AGENTCTL_TERRAFORM PATH=/nonexistent"

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
		-n "kubectl version --client" "$kubectl version --client" \
		-n "agentctl --help" "$agentctl --help" \
		-n "agentctl version, no terraform" "$notf $agentctl version" \
		-n "agentctl version" "$agentctl version" >&2
	python3 - "$work/h.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
base = res[0]["median"]
cpu = lambda r: r["user"] + r["system"]
print("| command (%d runs, hyperfine) | wall, median | ratio to kubectl | CPU (user+sys), mean | ratio |" % len(res[0]["times"]))
print("|---|---|---|---|---|")
for r in res:
    print(f"| `{r['command']}` | {r['median']*1000:.1f} ms | {r['median']/base:.2f}× | {cpu(r)*1000:.1f} ms | {cpu(r)/cpu(res[0]):.2f}× |")
PY
	exit 0
fi

# median CMD...: the median wall time of $runs runs, in microseconds
median() {
	"$@" >/dev/null 2>&1 || true
	i=0
	while [ $i -lt "$runs" ]; do
		s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
		echo $(((e - s) / 1000))
		i=$((i + 1))
	done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
k=$(median "$kubectl" version --client)
row() { # row NAME MICROSECONDS
	awk -v n="$1" -v t="$2" -v k="$k" 'BEGIN {printf "| `%s` | %.1f ms | %.2f× |\n", n, t / 1000, t / k}'
}
echo "| command (median of $runs runs) | wall | ratio to kubectl |"
echo "|---|---|---|"
row "kubectl version --client" "$k"
row "agentctl --help" "$(median "$agentctl" --help)"
row "agentctl version, no terraform" "$(median $notf "$agentctl" version)"
row "agentctl version" "$(median "$agentctl" version)"

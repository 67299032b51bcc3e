#!/bin/sh
# bench-broker.sh measures what a client of the broker costs against
# upstream `kubectl version --client` (build-cluster.sh's kubectl), in the
# same run, as medians and ratios to kubectl:
#
#   kubectl version --client                    upstream kubectl's start
#   agentctl version                            a one-shot agentctl (not forwarded)
#   agentctl kubectl version --client, one-shot no broker: the whole pipeline
#   agentctl kubectl version --client, broker   forwarded: the client, and the
#                                               broker's worker running it
#
# The CPU column (hyperfine's user+sys of the process it started and the
# children it waited for) of the forwarded command is the client's own:
# the worker is the broker's child, not the client's.
# Usage: bench-broker.sh [RUNS] [AGENTCTL]   (default 30 runs)
set -eu

runs=${1:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}
kubectl=$(ls "$cache"/k8s-*/kubectl | head -n 1)

work=$(mktemp -d)
agentctl=${2:-}
if [ -z "$agentctl" ]; then
	agentctl="$work/agentctl"
	(cd "$root" && CGO_ENABLED=0 go build -o "$agentctl" ./cmd/agentctl)
fi
export HOME="$work" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" \
	XDG_CACHE_HOME="$work/cache" CHECKPOINT_DISABLE=1 CI=true
unset KUBECONFIG AGENTCTL_SOCKET
mkdir -m 700 "$work/run"
export XDG_RUNTIME_DIR="$work/run"
"$agentctl" serve --foreground 2>"$work/serve.log" &
broker=$!
trap 'kill $broker; wait $broker 2>/dev/null; rm -rf "$work"' EXIT
# Ready when the socket answers a forwarded command.
until "$agentctl" kubectl version --client >/dev/null 2>&1 && grep -q "serving at" "$work/serve.log"; do :; done

hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
	-n "kubectl version --client" "$kubectl version --client" \
	-n "agentctl version (one-shot)" "env AGENTCTL_SOCKET=/nonexistent $agentctl version" \
	-n "agentctl kubectl version --client, one-shot" "env AGENTCTL_SOCKET=/nonexistent $agentctl kubectl version --client" \
	-n "agentctl kubectl version --client, through the broker" "$agentctl kubectl version --client" >&2
python3 - "$work/h.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
base = res[0]["median"]
cpu = lambda r: r["user"] + r["system"]
print("| command (%d runs, hyperfine) | wall, median | ratio to kubectl | CPU of the process (user+sys), mean | ratio |" % len(res[0]["times"]))
print("|---|---|---|---|---|")
for r in res:
    print(f"| `{r['command']}` | {r['median']*1000:.1f} ms | {r['median']/base:.2f}× | {cpu(r)*1000:.1f} ms | {cpu(r)/cpu(res[0]):.2f}× |")
PY

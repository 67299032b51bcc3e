#!/usr/bin/env bash
# demo.sh: agentctl's main job against a real local cluster it starts
# itself. Run through `make demo`, which builds agentctl and the cluster
# binaries first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
agentctl() { "$root/bin/agentctl" "$@"; }
work=$(mktemp -d)
cluster_pid=
cleanup() {
	[[ -n $cluster_pid ]] && kill "$cluster_pid" 2>/dev/null && wait "$cluster_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
show() { # show CMD...: print the command as an agent would type it, then run it
	printf '\n$'
	printf ' %q' "$@"
	printf '\n'

	set +e
	"$@"
	local code=$?
	set -e
	printf '(exit %d)\n' "$code"
}

bold "Starting a local cluster (real etcd + kube-apiserver on 127.0.0.1)…"
(cd "$root" && go build -o "$work/testcluster" ./pkg/testenv/cmd/testcluster)
"$work/testcluster" -kubeconfig "$work/kubeconfig" -context demo >"$work/cluster.log" 2>&1 &
cluster_pid=$!
for _ in $(seq 1 120); do
	grep -q ready "$work/cluster.log" 2>/dev/null && break
	kill -0 "$cluster_pid" 2>/dev/null || { cat "$work/cluster.log"; exit 1; }
	sleep 0.5
done
grep -q ready "$work/cluster.log" || { echo "cluster did not start"; cat "$work/cluster.log"; exit 1; }

# The agent's world: its kubeconfig, no terminal for approvals, its own
# audit log for this demo.
export KUBECONFIG="$work/kubeconfig"
export XDG_STATE_HOME="$work/state" XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config"
export AGENTCTL_AGENT=demo-agent AGENTCTL_NON_INTERACTIVE=1

# Fixtures, created behind agentctl's back with upstream kubectl (built by
# make testbin) and the admin kubeconfig.
testbin=${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}
"$(ls -d "$testbin"/k8s-*/kubectl | head -1)" apply -f "$root/testdata/demo/fixtures.yaml" >/dev/null

bold "1. An allowed read: runs inside the sandbox, output exactly as kubectl's"
show agentctl --intent "check the app config" kubectl -n demo get configmaps

bold "2. What would a delete do? explain classifies without running"
show agentctl explain -- kubectl -n demo delete configmap app-config

bold "3. The delete itself: needs a human; there is none (CI mode), so it is refused"
show agentctl --intent "clean up old config" kubectl -n demo delete configmap app-config
show agentctl kubectl -n demo get configmap app-config -o name

bold "4. An 'app rollout' that hides a ClusterRoleBinding in its third document"
show agentctl explain -- kubectl apply -f "$root/testdata/demo/rbac.yaml"
show agentctl --output json --intent "roll out the app" kubectl apply -f "$root/testdata/demo/rbac.yaml"

bold "5. The agent writes its own allow-all policy and passes it: it can only tighten"
# The file is the agent's: owned by its OS user (as root, this demo gives
# it to nobody to play that), so it counts only where it is stricter.
printf 'version: 1\nrules:\n  - {decision: allow, message: anything goes}\n' >"$work/mine.yaml"
if [[ $(id -u) == 0 ]]; then chown 65534 "$work/mine.yaml"; fi
show agentctl --policy "$work/mine.yaml" --intent "clean up old config" kubectl -n demo delete configmap app-config

bold "6. Every decision is in a tamper-evident audit log"
show agentctl audit log
show agentctl audit verify

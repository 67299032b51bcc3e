#!/usr/bin/env bash
# demo.sh: agentctl's main job against a real local cluster it starts
# itself. Run through `make demo`, which builds agentctl first; this script
# builds the cluster binaries it needs (testbin.sh).
#
# On a terminal (stdin and stdout are terminals and CI is not set) it
# stops where a human is needed and shows the real approval screens: you
# approve a delete, deny an RBAC change, approve a terraform apply with its
# plan on screen (it builds terraform and the test provider for that), and
# answer another process's request in `agentctl inbox`. The demo says what
# to press. Anywhere else (CI, `demo.sh </dev/null`) nobody can approve, so
# every change is refused and nothing waits.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# AGENTCTL_DEMO_BIN: another agentctl binary (pkg/e2e's TestDemoWithoutATerminal).
bin=${AGENTCTL_DEMO_BIN:-$root/bin/agentctl}
agentctl() { "$bin" "$@"; }
testbin=${AGENTCTL_TESTBIN:-$HOME/.cache/agentctl/testbin}

interactive=false
if [[ -t 0 && -t 1 && -z ${CI:-} ]]; then
	interactive=true
fi

work=$(mktemp -d)
cluster_pid=
broker_pid=
stop_broker() { # SIGTERM, then wait: it is not this shell's child
	[[ -n $broker_pid ]] || return 0
	kill "$broker_pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$broker_pid" 2>/dev/null || break
		sleep 0.1
	done
	broker_pid=
}
cleanup() {
	stop_broker
	[[ -n $cluster_pid ]] && kill "$cluster_pid" 2>/dev/null && wait "$cluster_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
say() { printf '\033[36m%s\033[0m\n' "$*"; }
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
pause() { # pause WHAT: on a terminal, wait for Enter before WHAT
	$interactive || return 0
	printf '\n\033[33m[press Enter: %s]\033[0m' "$*"
	read -r _
}

if $interactive; then
	bash "$root/testdata/tools/testbin.sh" -q k8s etcd terraform testcloud
else
	bash "$root/testdata/tools/testbin.sh" -q k8s etcd
fi

bold "Starting a local cluster (real etcd + kube-apiserver on 127.0.0.1)…"
# Without cgo, like make build: the packages it shares with agentctl are
# compiled once.
(cd "$root" && CGO_ENABLED=0 go build -o "$work/testcluster" ./pkg/testenv/cmd/testcluster)
"$work/testcluster" -kubeconfig "$work/kubeconfig" -context demo >"$work/cluster.log" 2>&1 &
cluster_pid=$!
for _ in $(seq 1 120); do
	grep -q ready "$work/cluster.log" 2>/dev/null && break
	kill -0 "$cluster_pid" 2>/dev/null || { cat "$work/cluster.log"; exit 1; }
	sleep 0.5
done
grep -q ready "$work/cluster.log" || { echo "cluster did not start"; cat "$work/cluster.log"; exit 1; }

# The agent's world: its kubeconfig, its own audit log, config and inbox
# socket for this demo. Without a terminal nobody can approve (CI mode);
# on one, the screen comes up on this terminal.
export KUBECONFIG="$work/kubeconfig"
export XDG_STATE_HOME="$work/state" XDG_CACHE_HOME="$work/cache" XDG_CONFIG_HOME="$work/config" \
	XDG_RUNTIME_DIR="$work/run"
mkdir -m 0700 "$work/run"
export AGENTCTL_AGENT=demo-agent
unset AGENTCTL_APPROVER AGENTCTL_POLICY AGENTCTL_OUTPUT AGENTCTL_INTENT
if $interactive; then
	export AGENTCTL_APPROVER=tty
	unset AGENTCTL_NON_INTERACTIVE
else
	export AGENTCTL_NON_INTERACTIVE=1
fi

if $interactive; then
	# terraform for step 6: the test provider (testdata/testcloud) keeps
	# its "cloud" in a directory; terraform installs it from a local
	# mirror. The CLI configuration and the terraform binary are the
	# broker's world (a client cannot send them), so they are set before
	# the broker starts; terraform init is done behind agentctl's back,
	# like the fixtures.
	tf=$testbin/terraform-v1.5.7/terraform
	provider=$(ls "$testbin"/testcloud-*/terraform-provider-testcloud | head -n 1)
	# The mirror is inside the project: agentctl refuses one outside it
	# unless root's config allows it.
	cp -r "$root/testdata/terraform/creates" "$work/infra"
	mkdir -p "$work/infra/.testcloud"
	mirror="$work/infra/.mirror/agentctl.test/agentctl/testcloud/0.1.0/$(go env GOOS)_$(go env GOARCH)"
	mkdir -p "$mirror"
	cp "$provider" "$mirror/"
	printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["agentctl.test/*/*"]\n  }\n}\n' \
		"$work/infra/.mirror" >"$work/terraform.rc"
	export TF_CLI_CONFIG_FILE="$work/terraform.rc" TF_VAR_cloud_dir="$work/infra/.testcloud" \
		CHECKPOINT_DISABLE=1 AGENTCTL_TERRAFORM="$tf"
	(cd "$work/infra" && "$tf" init -input=false -no-color >/dev/null)
fi

bold "0. Start the broker: agentctl serve"
say "A per-user broker on \$XDG_RUNTIME_DIR/agentctl/broker.sock. It owns the policy, the audit"
say "log, the approvals and warm workers; every agentctl kubectl/terraform/explain below"
say "is forwarded to it and runs in one of its workers, with the same output and exit code."
show agentctl serve
broker_pid=$(cat "$XDG_RUNTIME_DIR/agentctl/broker.lock")

# Fixtures, created behind agentctl's back with upstream kubectl (built by
# testbin.sh) and the admin kubeconfig.
"$(ls -d "$testbin"/k8s-*/kubectl | head -1)" apply -f "$root/testdata/demo/fixtures.yaml" >/dev/null

bold "1. An allowed read: runs inside the sandbox, output exactly as kubectl's"
show agentctl --intent "check the app config" kubectl -n demo get configmaps

bold "2. What would a delete do? explain classifies without running"
show agentctl explain -- kubectl -n demo delete configmap app-config

if $interactive; then
	bold "3. The delete itself: destructive, so agentctl asks you on this terminal"
	say "The screen shows who asks, why (the agent's intent), the exact command, the target"
	say "cluster and namespace, and what the delete would remove. Press  a  to approve it."
	pause "show the approval screen"
	show agentctl --intent "clean up old config" kubectl -n demo delete configmap app-config
	say "Approved: it ran. The configmap is gone:"
	show agentctl kubectl -n demo get configmaps
else
	bold "3. The delete itself: needs a human; there is none (CI mode), so it is refused"
	show agentctl --intent "clean up old config" kubectl -n demo delete configmap app-config
	show agentctl kubectl -n demo get configmap app-config -o name
fi

bold "4. An 'app rollout' that hides a ClusterRoleBinding in its third document"
show agentctl explain -- kubectl apply -f "$root/testdata/demo/rbac.yaml"
if $interactive; then
	say "The apply is 'privilege' as a whole: its third document makes the app a cluster admin."
	say "The screen's diff shows what each document would create, that binding among them"
	say "(scroll with the arrow keys). Press  d  to deny."
	say "(Approving would need you to type the target's name too.)"
	pause "show the approval screen"
	show agentctl --intent "roll out the app" kubectl apply -f "$root/testdata/demo/rbac.yaml"
	say "Denied: nothing of the three documents was applied:"
	show agentctl kubectl get clusterrolebinding app-is-admin
else
	show agentctl --output json --intent "roll out the app" kubectl apply -f "$root/testdata/demo/rbac.yaml"
fi

bold "5. The agent writes its own allow-all policy and passes it: it can only tighten"
# The file is the agent's: owned by its OS user (as root, this demo gives
# it to nobody to play that), so it counts only where it is stricter. Run
# without an approver, so that the refusal shows.
printf 'version: 1\nrules:\n  - {decision: allow, message: anything goes}\n' >"$work/mine.yaml"
if [[ $(id -u) == 0 ]]; then chown 65534 "$work/mine.yaml"; fi
show agentctl --non-interactive --policy "$work/mine.yaml" --intent "clean up old config" kubectl -n demo delete configmap app-config

if $interactive; then
	bold "6. terraform apply: agentctl plans, shows you the plan, and applies exactly that plan"
	cd "$work/infra"
	say "The screen shows terraform's plan of what the apply would do (Plan: 2 to add)."
	say "Press  a  to approve: agentctl then applies that plan file and nothing else."
	pause "show the approval screen"
	show agentctl --intent "create the web instance" terraform apply
	say "Applied. What terraform now manages:"
	show agentctl terraform state list
	cd "$root"

	bold "7. The inbox: approve another process's request from here"
	say "An agent in another process (started in the background now) asks to create a"
	say "configmap. It has no terminal of its own: its request waits in agentctl inbox."
	say "In the inbox: press  Enter  to open the request,  a  to approve it, then  q  to quit."
	pause "start the request and open the inbox"
	(
		# The request goes to an inbox that answers; wait for it to start.
		for _ in $(seq 1 100); do
			[[ -S $XDG_RUNTIME_DIR/agentctl/inbox.sock ]] && break
			sleep 0.1
		done
		AGENTCTL_APPROVER=inbox exec "$bin" --agent other-agent --intent "publish the release notes" \
			kubectl -n demo create configmap release-notes --from-literal=version=2 </dev/null
	) >"$work/request.out" 2>"$work/request.err" &
	request=$!
	show agentctl inbox
	set +e
	wait "$request"
	code=$?
	set -e
	say "The other process's command, answered in the inbox (its output and exit code):"
	cat "$work/request.err" "$work/request.out"
	printf '(exit %d)\n' "$code"
	show agentctl kubectl -n demo get configmap release-notes -o name
fi

bold "$($interactive && echo 8 || echo 6). Every decision is in a tamper-evident audit log"
show agentctl audit log
show agentctl audit verify

bold "Stopping the broker"
say "SIGTERM: it lets running commands finish, then exits (broker pid $broker_pid)."
stop_broker

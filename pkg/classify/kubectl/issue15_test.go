package kubectl

import (
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

// refused checks that the command is refused outright, with a reason.
func refused(t *testing.T, a *classify.Assessment) {
	t.Helper()
	if a.Refused == "" {
		t.Errorf("not refused\n%s", dump(a))
	}
}

// reason checks that some reason mentions substr.
func reason(substr string) func(*testing.T, *classify.Assessment) {
	return func(t *testing.T, a *classify.Assessment) {
		t.Helper()
		for _, r := range a.Reasons {
			if strings.Contains(r.Message, substr) {
				return
			}
		}
		t.Errorf("no reason mentions %q\n%s", substr, dump(a))
	}
}

// What kubectl 1.34 does with each argv: the taint arguments are split and
// checked as kubectl's TaintOptions.Complete and parseTaints do (the
// rejections below are the errors the real kubectl prints).
func TestTaintsThatEvictAreDestructive(t *testing.T) {
	runTable(t, []tc{
		{name: "taint key=value:NoExecute evicts", args: "taint nodes n1 dedicated=db:NoExecute", want: D, check: reason("NoExecute")},
		{name: "taint key:NoExecute without a value evicts", args: "taint nodes n1 dedicated:NoExecute", want: D, check: kinds("Node")},
		{name: "taint node/name form", args: "taint node/n1 k=v:NoExecute", want: D},
		{name: "taint with --overwrite", args: "taint nodes n1 k=v:NoExecute --overwrite", want: D},
		{name: "taint several taints, one NoExecute", args: "taint nodes n1 a=b:NoSchedule c:NoExecute", want: D},
		{name: "taint several nodes", args: "taint nodes n1 n2 n3 k:NoExecute", want: D},
		{name: "taint nodes selected by label", args: "taint nodes -l pool=db k=v:NoExecute", want: D},
		{name: "taint all nodes", args: "taint nodes --all k=v:NoExecute", want: D},
		{name: "taint flags before the verb", args: "-n x taint nodes n1 k:NoExecute", want: D},
		{name: "removing a NoExecute taint evicts nothing", args: "taint nodes n1 k:NoExecute-", want: W},
		{name: "removing a taint by key", args: "taint nodes n1 k-", want: W},
		{name: "adding NoSchedule only steers new pods", args: "taint nodes n1 k=v:NoSchedule", want: W},
		{name: "adding PreferNoSchedule", args: "taint nodes n1 k:PreferNoSchedule", want: W},
		{name: "taint NoExecute --dry-run=server changes nothing", args: "taint nodes n1 k=v:NoExecute --dry-run=server", want: R},
		{name: "taint effect in the wrong case is rejected by kubectl", args: "taint nodes n1 k=v:noexecute", want: U},
		{name: "taint key=value without effect is rejected by kubectl", args: "taint nodes n1 k=v", want: U},
		{name: "taint duplicated key and effect is rejected by kubectl", args: "taint nodes n1 k=v:NoExecute k=w:NoExecute", want: U},
		{name: "taint resource after a taint is rejected by kubectl", args: "taint nodes n1 k:NoExecute n2", want: U},
		{name: "taint without a taint is rejected by kubectl", args: "taint nodes n1", want: U},
		{name: "taint key:NoExecute is no node name", args: "taint nodes n1 k:NoExecute", want: D, check: func(t *testing.T, a *classify.Assessment) {
			for _, r := range a.Resources {
				if r.Name != "n1" {
					t.Errorf("resource %q: only node n1 is tainted", r.Name)
				}
			}
		}},
	})
}

func TestSiblingsOfEviction(t *testing.T) {
	runTable(t, []tc{
		{name: "drain evicts", args: "drain n1 --ignore-daemonsets", want: D},
		{name: "cordon only stops scheduling", args: "cordon n1", want: W},
		{name: "scale to zero stops every pod", args: "scale deploy/web --replicas=0", want: D},
		{name: "scale to zero with a separate value", args: "scale --replicas 0 statefulset db", want: D},
		{name: "scale to one", args: "scale deploy/web --replicas=1", want: W},
		{name: "scale to zero as a dry run", args: "scale deploy/web --replicas=0 --dry-run=server", want: R},
		{name: "patch replicas to zero", argv: []string{"patch", "deploy", "web", "-p", `{"spec":{"replicas":0}}`}, want: D},
		{name: "json patch replicas to zero", argv: []string{"patch", "deploy", "web", "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":0}]`}, want: D},
		{name: "patch replicas to two", argv: []string{"patch", "deploy", "web", "-p", `{"spec":{"replicas":2}}`}, want: W},
		{name: "patch a NoExecute taint onto a node", argv: []string{"patch", "node", "n1", "-p", `{"spec":{"taints":[{"key":"k","effect":"NoExecute"}]}}`}, want: D},
		{name: "apply a Node manifest with a NoExecute taint", args: "apply -f -", stdin: "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec:\n  taints: [{key: k, effect: NoExecute}]\n", want: D},
		{name: "apply a Node manifest with a NoSchedule taint", args: "apply -f -", stdin: "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec:\n  taints: [{key: k, effect: NoSchedule}]\n", want: W},
		{name: "rollout undo goes back a revision: a write", args: "rollout undo deploy/web", want: W},
		{name: "certificate deny refuses a credential: a write", args: "certificate deny csr-1", want: W},
		{name: "replace --force deletes and recreates", args: "replace --force -f manifests/deploy.yaml", want: D},
		{name: "apply --prune deletes", args: "apply --prune -l app=web -f manifests/deploy.yaml", want: D},
		{name: "json patch remove op is a write", argv: []string{"patch", "deploy", "web", "--type=json", "-p", `[{"op":"remove","path":"/spec/template/spec/containers/1"}]`}, want: W},
		{name: "strategic $patch delete of a list element is a write", argv: []string{"patch", "deploy", "web", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"side","$patch":"delete"}]}}}}`}, want: W},
	})
}

// kubectl 1.34 alone, or with flags only, prints its help and exits 0;
// removed commands are errors ("unknown command") unless a plugin exists.
func TestNoVerbAndRemovedCommandsAreRefused(t *testing.T) {
	runTable(t, []tc{
		{name: "kubectl alone", args: "", want: U, check: refused},
		{name: "kubectl with a namespace only", args: "-n x", want: U, check: refused},
		{name: "kubectl with a context only", args: "--context prod", want: U, check: reason("no kubectl command")},
		{name: "kubectl --help is still help", args: "--help", want: R},
		{name: "kubectl help is still help", args: "help", want: R},
		{name: "removed rolling-update", args: "rolling-update web --image=x", want: U, sub: "rolling-update", check: refused},
		{name: "removed stop", args: "stop deploy web", want: U, check: refused},
		{name: "convert is a plugin, not removed", args: "convert -f x.yaml", want: X},
	})
}

// Arguments a shell would have expanded reach agentctl unexpanded: no
// shell runs. Values whose own language spells "$name" are not flagged.
func TestUnexpandedShellConstructsAreUnknown(t *testing.T) {
	runTable(t, []tc{
		{name: "$VAR as a namespace", argv: []string{"get", "pods", "-n", "$NS"}, want: U, check: reason("no shell runs")},
		{name: "${VAR} as a name", argv: []string{"delete", "pod", "${POD}"}, want: U},
		{name: "$VAR inside --flag=", argv: []string{"get", "pods", "--namespace=$NS"}, want: U, check: reason(`"$NS"`)},
		{name: "$VAR inside -l", argv: []string{"get", "pods", "-l", "app=$APP"}, want: U},
		{name: "$(cmd) inside --flag=", argv: []string{"get", "pods", "--context=$(cat ctx)"}, want: U},
		{name: "backticks inside a value", argv: []string{"scale", "deploy/web", "--replicas=`cat n`"}, want: U},
		{name: "positional parameter", argv: []string{"logs", "$1"}, want: U},
		{name: "tilde at the start of a path", argv: []string{"config", "set-cluster", "c", "--certificate-authority", "~/ca.pem"}, want: U},
		{name: "tilde with a user name", argv: []string{"get", "pods", "-n", "~ops"}, want: U},
		{name: "tilde alone", argv: []string{"get", "pods", "~"}, want: U},
		{name: "$VAR in a plugin's arguments", argv: []string{"foo", "$X"}, want: U},
		{name: "$VAR in a jsonpath filter", argv: []string{"get", "pods", "-o", `jsonpath={.items[?(@.metadata.name=="$POD")]}`}, want: U},
		{name: "jsonpath root $ is not a variable", argv: []string{"get", "pods", "-o", "jsonpath={$.items[*].metadata.name}"}, want: R},
		{name: "jsonpath range is not shell syntax", argv: []string{"get", "pods", "-o", "jsonpath={.items[*]}"}, want: R},
		{name: "go-template variables", argv: []string{"get", "pods", "-o", `go-template={{range $i, $p := .items}}{{$p.metadata.name}}{{end}}`}, want: R},
		{name: "go-template variables with -o=", argv: []string{"get", "pods", `-o=go-template={{$x := .}}{{$x.kind}}`}, want: R},
		{name: "--template variables", argv: []string{"get", "pods", "-o", "go-template", "--template", `{{$x := .}}{{$x.kind}}`}, want: R},
		{name: "--template= variables", argv: []string{"get", "pods", "-o", "template", `--template={{$x := .}}`}, want: R},
		{name: "a go-template does not exempt other arguments", argv: []string{"get", "pods", "-n", "$NS", "-o", `go-template={{$x := .}}`}, want: U},
		{name: "strategic merge patch directive", argv: []string{"patch", "deploy", "web", "-p", `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}]}}}}`}, want: W},
		{name: "$VAR inside a patch", argv: []string{"patch", "deploy", "web", "-p", `{"spec":{"replicas":$N}}`}, want: U},
		{name: "a lone dollar is no expansion", argv: []string{"create", "configmap", "c", "--from-literal=price=5$"}, want: W},
		{name: "dollar before a space is no expansion", argv: []string{"annotate", "pod", "a", "note=costs $ 5"}, want: W},
		{name: "tilde inside a value is not at a word start", argv: []string{"label", "pod", "a", "x=a~b"}, want: W},
		{name: "container command after -- is the container's business", argv: []string{"exec", "web", "--", "sh", "-c", "echo $HOME ~"}, want: X},
	})
}

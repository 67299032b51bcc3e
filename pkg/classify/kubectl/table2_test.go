package kubectl

import (
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

func TestResourceResolution(t *testing.T) {
	runTable(t, []tc{
		{name: "plural name", args: "delete deployments web", want: D, check: kinds("Deployment")},
		{name: "singular name", args: "delete deployment web", want: D, check: kinds("Deployment")},
		{name: "short name deploy", args: "delete deploy web", want: D, check: kinds("Deployment")},
		{name: "short name cm", args: "delete cm c", want: D, check: kinds("ConfigMap")},
		{name: "short name sa is privilege", args: "delete sa builder", want: P, check: kinds("ServiceAccount")},
		{name: "short name netpol is privilege", args: "delete netpol deny-all", want: P, check: kinds("NetworkPolicy")},
		{name: "short name po", args: "get po", want: R, check: kinds("Pod")},
		{name: "short name svc", args: "get svc", want: R, check: kinds("Service")},
		{name: "short name ns is cluster-scoped", args: "get ns", want: R, check: ns("")},
		{name: "short name crd", args: "get crd", want: R, check: kinds("CustomResourceDefinition")},
		{name: "kind name in any case", args: "get Deployment", want: R, check: kinds("Deployment")},
		{name: "type.group clusterrolebindings.rbac.authorization.k8s.io", args: "delete clusterrolebindings.rbac.authorization.k8s.io admin", want: P, check: kinds("ClusterRoleBinding")},
		{name: "type.version.group", args: "delete deployments.v1.apps web", want: D, check: kinds("Deployment")},
		{name: "type.group of the wrong group is unknown", args: "delete deployments.batch web", want: U},
		{name: "crb is not a kubectl short name: unknown offline", args: "delete crb admin", want: U},
		{name: "type/name form", args: "delete deploy/web", want: D, check: func(t *testing.T, a *classify.Assessment) {
			if a.Resources[0].Name != "web" {
				t.Errorf("name = %q", a.Resources[0].Name)
			}
		}},
		{name: "several type/name forms", args: "delete deploy/web clusterrole/admin", want: P, check: kinds("Deployment", "ClusterRole")},
		{name: "type/name mixed with a bare name is rejected", args: "delete deploy/web other", want: U},
		{name: "comma list of types", args: "get secrets,configmaps", want: R, check: kinds("Secret", "ConfigMap")},
		{name: "comma list with a privilege type", args: "delete cm,rolebindings x", want: P, check: kinds("ConfigMap", "RoleBinding")},
		{name: "all excludes secrets", args: "get all -o yaml", want: R, check: func(t *testing.T, a *classify.Assessment) {
			if hasKind(a, "Secret") || !hasKind(a, "Deployment") || !hasKind(a, "Pod") {
				t.Errorf("all resolved to %v", a.Resources)
			}
		}},
		{name: "delete all", args: "delete all --all", want: D},
		{name: "api-extensions category holds webhooks", args: "delete api-extensions --all", want: P},
		{name: "unknown type is unknown offline", args: "get widgets", want: U},
		{name: "events in the core group", args: "get ev", want: R, check: func(t *testing.T, a *classify.Assessment) {
			if a.Resources[0].Group != "" {
				t.Errorf("group = %q", a.Resources[0].Group)
			}
		}},
		{name: "events.k8s.io events", args: "get events.events.k8s.io", want: R},
		{name: "resource fields", args: "-n shop delete deploy web", want: D, check: func(t *testing.T, a *classify.Assessment) {
			r := a.Resources[0]
			if r.Group != "apps" || r.Version != "v1" || r.Resource != "deployments" || r.Namespace != "shop" || r.Name != "web" || r.Source != "argv" || r.Action != "delete" || r.Class != D {
				t.Errorf("resource = %+v", r)
			}
		}},
	})
}

func TestRiskTable(t *testing.T) {
	runTable(t, []tc{
		{name: "get pods", args: "get pods", want: R},
		{name: "describe pod", args: "describe pod web", want: R},
		{name: "describe secret shows sizes only", args: "describe secret db", want: R},
		{name: "logs", args: "logs web -c app", want: R, check: kinds("Pod")},
		{name: "logs of a deployment", args: "logs deploy/web", want: R, check: kinds("Deployment")},
		{name: "top pod", args: "top pod", want: R},
		{name: "top node", args: "top node", want: R},
		{name: "explain", args: "explain pods.spec", want: R},
		{name: "api-resources", args: "api-resources", want: R},
		{name: "api-versions", args: "api-versions", want: R},
		{name: "version", args: "version", want: R},
		{name: "cluster-info", args: "cluster-info", want: R},
		{name: "cluster-info dump reads", args: "cluster-info dump", want: R},
		{name: "cluster-info dump to a directory writes locally", args: "cluster-info dump --output-directory /tmp/d", want: W},
		{name: "auth can-i", args: "auth can-i delete pods", want: R},
		{name: "auth whoami", args: "auth whoami", want: R},
		{name: "events", args: "events --for pod/web", want: R},
		{name: "wait", args: "wait --for=condition=Ready pod/web", want: R},
		{name: "rollout status", args: "rollout status deploy/web", want: R},
		{name: "rollout history", args: "rollout history deploy/web", want: R},
		{name: "config view", args: "config view", want: R},
		{name: "config get-contexts", args: "config get-contexts", want: R},
		{name: "config current-context", args: "config current-context", want: R},
		{name: "config use-context modifies the kubeconfig", args: "config use-context prod", want: W},
		{name: "config set-context", args: "config set-context dev --namespace=x", want: W},
		{name: "config set-cluster", args: "config set-cluster c --server=https://x", want: W},
		{name: "config set of a cluster field", args: "config set clusters.c.server https://x", want: W},
		{name: "config set of a user field", args: "config set users.u.token abc", want: P},
		{name: "config set-credentials", args: "config set-credentials u --token=abc", want: P},
		{name: "config rename-context", args: "config rename-context a b", want: W},
		{name: "config delete-context", args: "config delete-context dev", want: D},
		{name: "config delete-user", args: "config delete-user u", want: D},
		{name: "scale", args: "scale deploy web --replicas=3", want: W},
		{name: "autoscale", args: "autoscale deploy web --max=5", want: W},
		{name: "rollout restart", args: "rollout restart deployment/web", want: W},
		{name: "rollout undo", args: "rollout undo deploy/web", want: W},
		{name: "rollout pause", args: "rollout pause deploy/web", want: W},
		{name: "expose", args: "expose deploy web --port=80", want: W},
		{name: "set image", args: "set image deploy/web web=nginx:2", want: W},
		{name: "set resources", args: "set resources deploy/web --limits=cpu=1", want: W},
		{name: "set serviceaccount changes a workload's identity", args: "set serviceaccount deploy web admin", want: P},
		{name: "set subject changes who a binding grants", args: "set subject clusterrolebinding admin --user=me", want: P},
		{name: "set env", args: "set env deploy/web MODE=fast", want: W},
		{name: "set env --list", args: "set env deploy/web --list", want: R},
		{name: "cordon", args: "cordon node1", want: W, check: kinds("Node")},
		{name: "uncordon", args: "uncordon node1", want: W},
		{name: "taint", args: "taint nodes node1 dedicated=gpu:NoSchedule", want: W, check: kinds("Node")},
		{name: "label", args: "label pod web tier=fe", want: W},
		{name: "annotate", args: "annotate deploy web note=x", want: W},
		{name: "patch", argv: []string{"patch", "deploy", "web", "-p", `{"spec":{"replicas":2}}`}, want: W},
		{name: "delete", args: "delete pod web", want: D},
		{name: "delete namespace", args: "delete ns shop", want: D},
		{name: "drain", args: "drain node1 --ignore-daemonsets", want: D},
		{name: "create namespace", args: "create namespace shop", want: W},
		{name: "create deployment", args: "create deployment web --image=nginx", want: W},
		{name: "create service clusterip", args: "create service clusterip web --tcp=80:8080", want: W, sub: "create service clusterip"},
		{name: "create quota", args: "create quota q --hard=pods=2", want: W},
		{name: "create job from a cronjob", args: "create job once --from=cronjob/nightly", want: W},
		{name: "certificate deny", args: "certificate deny csr-1", want: W},
		{name: "kustomize renders locally", args: "kustomize kustomize", want: R},
		{name: "kustomize --enable-helm runs helm", args: "kustomize kustomize --enable-helm", want: X},
		{name: "kustomize of a remote base is refused", args: "kustomize kustomize-remote", want: U},
		{name: "completion", args: "completion bash", want: R},
	})
}

func TestSecretReads(t *testing.T) {
	runTable(t, []tc{
		{name: "get secrets table output is names only", args: "get secrets", want: R},
		{name: "get secret -o name", args: "get secret db -o name", want: R},
		{name: "get secret -o wide", args: "get secret db -o wide", want: R},
		{name: "get secret -o yaml", args: "get secret db -o yaml", want: S},
		{name: "get secret -ojson attached", args: "get secret db -ojson", want: S},
		{name: "get secret --output=json", args: "get secret db --output=json", want: S},
		{name: "get secret jsonpath", argv: []string{"get", "secret", "db", "-o", "jsonpath={.data.password}"}, want: S},
		{name: "get secret go-template", argv: []string{"get", "secret", "db", "-o", "go-template={{.data}}"}, want: S},
		{name: "get secret custom-columns", args: "get secret db -o custom-columns=D:.data", want: S},
		{name: "get secret --template without -o", argv: []string{"get", "secret", "db", "--template={{.data}}"}, want: S},
		{name: "get secrets,configmaps -o yaml", args: "get secrets,configmaps -o yaml", want: S},
		{name: "get secret/db -o yaml", args: "get secret/db -o yaml", want: S},
		{name: "get configmap -o yaml is a read", args: "get cm c -o yaml", want: R},
		{name: "-v=9 get secret x", args: "-v=9 get secret x", want: S},
		{name: "-v=8 get secrets", args: "get secrets -v=8", want: S},
		{name: "-v=7 get secret is a read", args: "-v=7 get secret x", want: R},
		{name: "-v=9 get pods is a read", args: "-v=9 get pods", want: R},
		{name: "edit secret", args: "edit secret db", want: S},
		{name: "patch secret -o json reveals the rest", argv: []string{"patch", "secret", "db", "-p", "{}", "-o", "json"}, want: S},
		{name: "label secret -o yaml", args: "label secret db a=b -o yaml", want: S},
		{name: "set env --list --resolve", args: "set env deploy/web --list --resolve", want: S},
		{name: "set env --from=secret", args: "set env deploy/web --from=secret/db", want: S},
		{name: "set env --from=configmap", args: "set env deploy/web --from=configmap/c", want: W},
		{name: "config view --raw", args: "config view --raw", want: S},
		{name: "config view --flatten", args: "config view --flatten", want: S},
		{name: "apply view-last-applied of a secret", args: "apply view-last-applied secret/db", want: S},
		{name: "create secret generic", args: "create secret generic db --from-literal=p=x", want: W},
		{name: "create secret -o yaml with client dry run prints the agent's own input", args: "create secret generic db --from-literal=p=x --dry-run=client -o yaml", want: R, check: dry},
		{name: "create secret -o yaml against the server", args: "create secret generic db --from-literal=p=x -o yaml", want: S},
		{name: "apply a secret manifest", args: "apply -f manifests/secret.yaml", want: W},
		{name: "apply a secret manifest -o yaml", args: "apply -f manifests/secret.yaml -o yaml", want: S},
		{name: "get -f secret.yaml -o yaml", args: "get -f manifests/secret.yaml -o yaml", want: S},
	})
}

func TestPrivilege(t *testing.T) {
	runTable(t, []tc{
		{name: "create clusterrolebinding", args: "create clusterrolebinding admin --clusterrole=cluster-admin --user=me", want: P},
		{name: "create rolebinding", args: "create rolebinding rb --role=r --user=me", want: P},
		{name: "create role", args: "create role r --verb=get --resource=pods", want: P},
		{name: "create clusterrole", args: "create clusterrole r --verb=get --resource=pods", want: P},
		{name: "create serviceaccount", args: "create serviceaccount builder", want: P},
		{name: "create sa alias", args: "create sa builder", want: P},
		{name: "create token", args: "create token builder", want: P},
		{name: "delete role", args: "delete role r", want: P},
		{name: "label clusterrole (aggregation)", args: "label clusterrole view rbac.example.com/aggregate=true", want: P},
		{name: "annotate rolebinding", args: "annotate rolebinding rb a=b", want: P},
		{name: "patch networkpolicy", argv: []string{"patch", "netpol", "deny", "-p", `{"spec":{}}`}, want: P},
		{name: "edit clusterrole", args: "edit clusterrole admin", want: P},
		{name: "delete validatingwebhookconfiguration", args: "delete validatingwebhookconfigurations policy", want: P},
		{name: "delete mutatingwebhookconfiguration", args: "delete mutatingwebhookconfiguration inject", want: P},
		{name: "delete validatingadmissionpolicy", args: "delete validatingadmissionpolicies p", want: P},
		{name: "delete validatingadmissionpolicybinding", args: "delete validatingadmissionpolicybinding p", want: P},
		{name: "delete mutatingadmissionpolicy", args: "delete mutatingadmissionpolicies p", want: P},
		{name: "delete apiservice", args: "delete apiservice v1.metrics.k8s.io", want: P},
		{name: "label ns x pod-security.kubernetes.io/enforce=privileged", args: "label ns x pod-security.kubernetes.io/enforce=privileged", want: P},
		{name: "label ns removing a pod-security label", args: "label ns x pod-security.kubernetes.io/enforce-", want: P},
		{name: "label ns x team=a", args: "label ns x team=a", want: W},
		{name: "label pod with a pod-security-like key is a write", args: "label pod x pod-security.kubernetes.io/enforce=privileged", want: W},
		{name: "annotate ns with a pod-security key is a write", args: "annotate ns x pod-security.kubernetes.io/enforce=privileged", want: W},
		{name: "patch namespace pod-security labels", argv: []string{"patch", "ns", "x", "-p", `{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"privileged"}}}`}, want: P},
		{name: "edit namespace can change pod-security labels", args: "edit ns x", want: P},
		{name: "patch namespace pod-security label spelled with a JSON escape", argv: []string{"patch", "ns", "x", "-p", `{"metadata":{"labels":{"pod-security.kubernetes\u002eio/enforce":"privileged"}}}`}, want: P},
		{name: "patch namespace pod-security label as a YAML patch", argv: []string{"patch", "ns", "x", "-p", "metadata: {labels: {\"pod-security.kubernetes\\x2eio/enforce\": privileged}}"}, want: P},
		{name: "JSON patch of a pod-security label", argv: []string{"patch", "ns", "x", "--type=json", "-p", `[{"op":"add","path":"/metadata/labels/pod-security.kubernetes.io~1enforce","value":"privileged"}]`}, want: P},
		{name: "patch namespace with a plain label", argv: []string{"patch", "ns", "x", "-p", `{"metadata":{"labels":{"team":"a"}}}`}, want: W},
		{name: "malformed patch is rejected", argv: []string{"patch", "ns", "x", "-p", `{"metadata":`}, want: U},
		{name: "certificate approve", args: "certificate approve csr-1", want: P},
		{name: "auth reconcile", args: "auth reconcile -f manifests/list.yaml", want: P},
		{name: "label ns pod-security with dry run server", args: "label ns x pod-security.kubernetes.io/enforce=privileged --dry-run=server", want: R, check: dry},
	})
}

func TestExec(t *testing.T) {
	runTable(t, []tc{
		{name: "exec", args: "exec web -- ls", want: X, sub: "exec"},
		{name: "exec -it passes stdin", args: "exec -it web -- sh", want: X, check: func(t *testing.T, a *classify.Assessment) {
			if !a.Exec.PassStdin || a.Exec.Stdin != nil {
				t.Errorf("PassStdin = %v, Stdin = %q", a.Exec.PassStdin, a.Exec.Stdin)
			}
		}},
		{name: "exec without -i does not pass stdin", args: "exec web -- ls", want: X, check: func(t *testing.T, a *classify.Assessment) {
			if a.Exec.PassStdin {
				t.Error("PassStdin = true")
			}
		}},
		{name: "attach", args: "attach web", want: X},
		{name: "attach -i passes stdin", args: "attach -i web", want: X, check: func(t *testing.T, a *classify.Assessment) {
			if !a.Exec.PassStdin {
				t.Error("PassStdin = false")
			}
		}},
		{name: "cp", args: "cp web:/etc/passwd ./p", want: X},
		{name: "port-forward", args: "port-forward svc/web 8080:80", want: X},
		{name: "proxy", args: "proxy --port=8001", want: X},
		{name: "debug", args: "debug node/node1 -it --image=busybox", want: X},
		{name: "run", args: "run tmp --image=busybox --restart=Never -- sh", want: X},
		{name: "run -i passes stdin", args: "run -i tmp --image=busybox", want: X, check: func(t *testing.T, a *classify.Assessment) {
			if !a.Exec.PassStdin {
				t.Error("PassStdin = false")
			}
		}},
		{name: "run --dry-run=client runs nothing", args: "run tmp --image=busybox --dry-run=client -o yaml", want: R, check: dry},
		{name: "create job x --image=busybox -- sh", args: "create job x --image=busybox -- sh", want: X},
		{name: "create cronjob with a command", args: "create cronjob x --image=busybox --schedule=* -- sh -c date", want: X},
		{name: "create deployment with a command", args: "create deployment x --image=busybox -- sleep 1", want: X},
		{name: "create job without a command", args: "create job x --image=busybox", want: W},
		{name: "apply a privileged pod", args: "apply -f manifests/privileged-pod.yaml", want: X},
		{name: "apply a hostPID cronjob", args: "apply -f manifests/hostpid-cronjob.yaml", want: X},
		{name: "patch a deployment to privileged", argv: []string{"patch", "deploy", "web", "-p", `{"spec":{"template":{"spec":{"hostNetwork":true}}}}`}, want: X},
		{name: "edit a deployment can make it privileged", args: "edit deploy web", want: X},
		{name: "delete a privileged pod manifest is just destructive", args: "delete -f manifests/privileged-pod.yaml", want: D},
		{name: "privileged pod with server dry run", args: "apply -f manifests/privileged-pod.yaml --dry-run=server", want: R},
	})
}

func TestDryRuns(t *testing.T) {
	runTable(t, []tc{
		{name: "--dry-run=client delete", args: "delete pod web --dry-run=client", want: R, check: dry},
		{name: "--dry-run=server apply of a hidden ClusterRoleBinding", args: "apply --dry-run=server -f manifests/hidden-crb.yaml", want: R, check: dry},
		{name: "bare --dry-run means client", args: "delete pod web --dry-run", want: R, check: dry},
		{name: "--dry-run=true means client", args: "delete pod web --dry-run=true", want: R, check: dry},
		{name: "--dry-run=none is not a dry run", args: "delete pod web --dry-run=none", want: D, check: notDry},
		{name: "--dry-run=false is not a dry run", args: "delete pod web --dry-run=false", want: D, check: notDry},
		{name: "--dry-run=bogus is rejected", args: "delete pod web --dry-run=bogus", want: U},
		{name: "--dry-run=server with -o yaml on a secret still prints it", argv: []string{"patch", "secret", "db", "-p", "{}", "--dry-run=server", "-o", "yaml"}, want: S},
		{name: "--dry-run=server keeps impersonation", args: "--as=admin delete pod web --dry-run=server", want: P},
		{name: "diff is a read", args: "diff -f manifests/hidden-crb.yaml", want: R},
		{name: "diff --prune is a read", args: "diff --prune -l app=web -f manifests/deploy.yaml", want: R},
		{name: "apply --prune is destructive", args: "apply --prune -l app=web -f manifests/deploy.yaml", want: D},
		{name: "apply --prune with dry run", args: "apply --prune -l app=web -f manifests/deploy.yaml --dry-run=server", want: R},
		{name: "replace --force is destructive", args: "replace --force -f manifests/deploy.yaml", want: D},
		{name: "replace is a write", args: "replace -f manifests/deploy.yaml", want: W},
		{name: "drain --dry-run=client", args: "drain node1 --dry-run=client", want: R},
	})
}

func TestRaw(t *testing.T) {
	runTable(t, []tc{
		{name: "--raw GET of a Secret", args: "get --raw /api/v1/namespaces/x/secrets/db", want: S},
		{name: "--raw GET of the secret list", args: "get --raw /api/v1/secrets", want: S},
		{name: "--raw GET of pods", args: "get --raw /api/v1/namespaces/x/pods", want: R, check: ns("x")},
		{name: "--raw GET of deployments", args: "get --raw /apis/apps/v1/namespaces/x/deployments/web", want: R, check: kinds("Deployment")},
		{name: "--raw GET with .. that lands on secrets", args: "get --raw /api/v1/namespaces/x/pods/../secrets/db", want: S},
		{name: "--raw GET with percent-encoding is refused", args: "get --raw /api/v1/namespaces/x/%73ecrets/db", want: U},
		{name: "--raw GET of /metrics", args: "get --raw /metrics", want: R},
		{name: "--raw GET of /healthz", args: "get --raw /healthz?verbose", want: R},
		{name: "--raw GET of discovery", args: "get --raw /apis/apps/v1", want: R},
		{name: "--raw GET of pod proxy is exec", args: "get --raw /api/v1/namespaces/x/pods/web/proxy/admin", want: X},
		{name: "--raw GET of an unknown group", args: "get --raw /apis/example.com/v1/widgets", want: U},
		{name: "--raw DELETE of a pod", args: "delete --raw /api/v1/namespaces/x/pods/web", want: D},
		{name: "--raw DELETE of a clusterrolebinding", args: "delete --raw /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/admin", want: P},
		{name: "--raw POST of a token is privilege", args: "create --raw /api/v1/namespaces/x/serviceaccounts/sa/token -f manifests/deploy.yaml", want: P},
		{name: "--raw PUT of a configmap is a write", args: "replace --raw /api/v1/namespaces/x/configmaps/c -f manifests/deploy.yaml", want: W},
		{name: "--raw POST to a non-resource path is at least write", args: "create --raw /foo -f manifests/deploy.yaml", want: W},
		{name: "--raw body is sent as is through stdin", args: "create --raw /api/v1/namespaces/x/configmaps -f manifests/netpol.json", want: W, check: func(t *testing.T, a *classify.Assessment) {
			if !strings.HasPrefix(string(a.Exec.Stdin), "{\n  \"apiVersion\"") {
				t.Errorf("stdin = %q", a.Exec.Stdin)
			}
		}},
		{name: "-v=9 --raw GET of pods", args: "-v=9 get --raw /api/v1/pods", want: R},
	})
}

package kubectl

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
)

// FuzzClassify feeds argv (NUL-separated) and stdin: classification must
// never panic, hang, or return an error for anything but manifest I/O.
func FuzzClassify(f *testing.F) {
	for _, group := range [][]tc{seedCases()} {
		for _, c := range group {
			f.Add(strings.Join(c.argList(), "\x00"), c.stdin)
		}
	}
	f.Add("apply\x00-f\x00-", "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Secret, metadata: {name: s}}]\n")
	f.Add("get\x00--raw\x00/api/v1/namespaces/a/secrets/../../b", "")
	c := New(Options{MaxStdin: 1 << 20})
	dir := testdata(f)
	f.Fuzz(func(t *testing.T, argv, stdin string) {
		args := strings.Split(argv, "\x00")
		for _, a := range args {
			// Inputs that name other files of the machine are not what this
			// fuzz target explores.
			if strings.Contains(a, "/") && !strings.HasPrefix(a, "/api") || strings.Contains(a, "..") {
				return
			}
		}
		r := req(t, args, stdin)
		r.Cwd = dir
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a, err := c.Classify(ctx, r)
		if err != nil {
			if !strings.Contains(err.Error(), "manifest") {
				t.Fatalf("Classify(%q) error not about a manifest: %v", args, err)
			}
			return
		}
		if a.Class < classify.Read || a.Class > classify.Unknown || a.Tool != "kubectl" {
			t.Fatalf("bad assessment %+v", a)
		}
		if len(a.Reasons) == 0 {
			t.Fatalf("Classify(%q): no reason given", args)
		}
	})
}

// seedCases are a spread of table cases for the fuzz corpus.
func seedCases() []tc {
	return []tc{
		{args: "-n prod --context=x delete pod a"},
		{args: "get secret db -o yaml"},
		{args: "apply -f manifests/hidden-crb.yaml"},
		{args: "apply -f -", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\n"},
		{args: "apply -k kustomize"},
		{args: "create job x --image=busybox -- sh"},
		{args: "label ns x pod-security.kubernetes.io/enforce=privileged"},
		{args: "get --raw /api/v1/secrets"},
		{args: "exec -it web -- sh -c a;b"},
		{args: "delete pod web --dry-run"},
		{args: "-v=9 get secret x"},
		{args: "foo bar"},
		{args: "config view --raw"},
	}
}

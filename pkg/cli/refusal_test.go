package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// TestAllowRuleAllowsWhatWasRefused: the rule a CI refusal suggests,
// installed in the admin policy, allows exactly that command without a
// human, and nothing in another namespace.
func TestAllowRuleAllowsWhatWasRefused(t *testing.T) {
	tests := []struct {
		name string
		a    classify.Assessment
	}{
		{name: "kubectl delete in a namespace", a: classify.Assessment{Tool: "kubectl", Class: classify.Destructive, Subcommand: "delete",
			Target:    classify.Target{Context: "ci", Namespace: "staging"},
			Resources: []classify.Resource{{Version: "v1", Kind: "ConfigMap", Resource: "configmaps", Namespace: "staging", Name: "x", Class: classify.Destructive}}}},
		{name: "kubectl rbac change", a: classify.Assessment{Tool: "kubectl", Class: classify.Privilege, Subcommand: "apply",
			Target:    classify.Target{Context: "ci", Namespace: "staging"},
			Resources: []classify.Resource{{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding", Resource: "rolebindings", Namespace: "staging", Name: "x", Class: classify.Privilege}}}},
		{name: "terraform apply in a workspace", a: classify.Assessment{Tool: "terraform", Class: classify.Write, Subcommand: "apply",
			Target: classify.Target{Dir: "/src/infra", Workspace: "staging"}}},
	}
	def, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := allowRule(&tt.a)
			f, err := policy.Parse("admin.yaml", []byte("rules:\n  "+rule+"\n"))
			if err != nil {
				t.Fatalf("the suggested rule does not parse: %v\n%s", err, rule)
			}
			e, err := policy.New([]policy.Layer{{Kind: policy.LayerDefault, File: def}, {Kind: policy.LayerAdmin, File: f}}, policy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			decide := func(a classify.Assessment) policy.Decision {
				d, err := e.Decide(context.Background(), &policy.Input{Assessment: &a, NonInteractive: true})
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			if d := decide(tt.a); d.Action != policy.Allow || !strings.HasPrefix(d.Rule, "admin.yaml:") {
				t.Errorf("with %s: %s by %s, want allow by it", rule, d.Action, d.Rule)
			}
			if tt.a.Tool != "kubectl" {
				return // by tool and class only
			}
			other := tt.a
			other.Target.Namespace = "prod"
			other.Resources = nil
			for _, r := range tt.a.Resources {
				r.Namespace = "prod"
				other.Resources = append(other.Resources, r)
			}
			if d := decide(other); d.Action == policy.Allow {
				t.Errorf("with %s: prod allowed too", rule)
			}
		})
	}
}

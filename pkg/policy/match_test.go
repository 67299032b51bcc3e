package policy_test

import (
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// TestRuleMatching checks each matcher with a user layer of one rule that
// denies, above the default policy: when the rule does not match, the
// default decides (approve for changes). (A rule that allows may not match
// on names the agent writes: see TestNameOnlyLoosening.)
func TestRuleMatching(t *testing.T) {
	write := func(mod func(a *classify.Assessment)) *classify.Assessment {
		a := kube(classify.Write, "patch", "Deployment", "dev-web")
		a.Resources[0].Group = "apps"
		if mod != nil {
			mod(a)
		}
		return a
	}
	envs := `
environments:
  - name: prod
    context: ["*prod*"]
  - name: dev
    namespace: dev-*
  - name: staging
    workspace: staging
`
	for _, tc := range []struct {
		name  string
		rule  string
		in    policy.Input
		match bool
	}{
		{"tool matches", "tool: kubectl", policy.Input{Assessment: write(nil)}, true},
		{"tool differs", "tool: [terraform, tofu]", policy.Input{Assessment: write(nil)}, false},
		{"class in list", "class: [write, destructive]", policy.Input{Assessment: write(nil)}, true},
		{"class not in list", "class: destructive", policy.Input{Assessment: write(nil)}, false},
		{"subcommand glob", "subcommand: 'pat*'", policy.Input{Assessment: write(nil)}, true},
		{"subcommand differs", "subcommand: apply", policy.Input{Assessment: write(nil)}, false},
		{"resource by kind, any case", "resource: deployment", policy.Input{Assessment: write(nil)}, true},
		{"resource by plural.group", "resource: deployments.apps", policy.Input{Assessment: write(nil)}, true},
		{"resource by Kind.group", "resource: Deployment.apps", policy.Input{Assessment: write(nil)}, true},
		{"resource: wrong group", "resource: deployments.extensions", policy.Input{Assessment: write(nil)}, false},
		{"resource: every resource must match", "resource: deployments", policy.Input{Assessment: write(func(a *classify.Assessment) {
			a.Resources = append(a.Resources, classify.Resource{Kind: "ConfigMap", Resource: "configmaps", Namespace: "dev-web"})
		})}, false},
		{"resource: no resources never match", "resource: '*'", policy.Input{Assessment: write(func(a *classify.Assessment) { a.Resources = nil })}, false},
		{"namespace glob", "namespace: dev-*", policy.Input{Assessment: write(nil)}, true},
		{"namespace: one resource elsewhere", "namespace: dev-*", policy.Input{Assessment: write(func(a *classify.Assessment) {
			a.Resources = append(a.Resources, classify.Resource{Kind: "ConfigMap", Namespace: "prod"})
		})}, false},
		{"namespace: a cluster-scoped resource never matches", "namespace: '*'", policy.Input{Assessment: write(func(a *classify.Assessment) {
			a.Resources = []classify.Resource{{Kind: "Node", Resource: "nodes", Name: "n1"}}
		})}, false},
		{"namespace: a Namespace object counts as its name", "namespace: dev-*", policy.Input{Assessment: write(func(a *classify.Assessment) {
			a.Resources = []classify.Resource{{Kind: "Namespace", Resource: "namespaces", Name: "prod"}}
		})}, false},
		{"namespace: no resources, the target's namespace", "namespace: dev-web", policy.Input{Assessment: write(func(a *classify.Assessment) { a.Resources = nil })}, true},
		{"context glob", "context: kind-*", policy.Input{Assessment: write(nil)}, true},
		{"cluster differs", "cluster: eks-prod", policy.Input{Assessment: write(nil)}, false},
		{"workspace: unset never matches", "workspace: '*'", policy.Input{Assessment: write(nil)}, false},
		{"dir: the working directory", "dir: /src/app/**", policy.Input{Assessment: write(nil), Cwd: "/src/app/infra/dev"}, true},
		{"dir: terraform -chdir wins over the working directory", "dir: /src/app/*", policy.Input{Assessment: write(func(a *classify.Assessment) { a.Target.Dir = "/elsewhere" }), Cwd: "/src/app/x"}, false},
		{"env from a namespace mapping", "env: dev", policy.Input{Assessment: write(nil)}, true},
		{"env: a name-only mapping does not displace a namespace mapping", "env: dev", policy.Input{Assessment: write(func(a *classify.Assessment) { a.Target.Context = "gke-prod-1" })}, true},
		{"env: a name-only mapping still names the env for a stricter rule", "env: prod", policy.Input{Assessment: write(func(a *classify.Assessment) { a.Target.Context = "gke-prod-1" })}, true},
		{"env: unmapped is unknown", "env: unknown", policy.Input{Assessment: write(func(a *classify.Assessment) { a.Resources[0].Namespace = "web" })}, true},
		{"agent glob", "agent: 'claude-*'", policy.Input{Assessment: write(nil), Agent: "claude-ci"}, true},
		{"agent: none given", "agent: 'claude-*'", policy.Input{Assessment: write(nil)}, false},
		{"nonInteractive: true only in CI", "nonInteractive: true", policy.Input{Assessment: write(nil)}, false},
		{"when: true", "when: resources.all(r, r.namespace.startsWith('dev-')) && env == 'dev'", policy.Input{Assessment: write(nil)}, true},
		{"when: false", "when: target.context == 'prod'", policy.Input{Assessment: write(nil)}, false},
		{"when: agent and intent", "when: agent == 'bot' && intent.contains('rollback')", policy.Input{Assessment: write(nil), Agent: "bot", Intent: "rollback the bad release"}, true},
		{"every matcher must match", "tool: kubectl\n    namespace: prod", policy.Input{Assessment: write(nil)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := layer(t, policy.LayerUser, "user.yaml", envs+"rules:\n  - "+tc.rule+"\n    decision: deny\n")
			d := decide(t, engine(t, policy.Options{}, user), &tc.in)
			if got := d.Rule == "user.yaml:9"; got != tc.match {
				t.Errorf("rule matched=%v, want %v (decision %s by %s: %s)", got, tc.match, d.Action, d.Rule, d.Message)
			}
		})
	}
}

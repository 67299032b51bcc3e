package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

const (
	devCA   = "3f7a0c5e9b1d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a"
	otherCA = "aaaa0c5e9b1d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c4e6b8d0f2a"
)

// TestEnvironmentsBindToTheServer checks that an environment with servers
// selects a target by the API server it reaches (URL and CA), whatever the
// agent named its context and cluster, and that names alone only tighten.
func TestEnvironmentsBindToTheServer(t *testing.T) {
	admin := layer(t, policy.LayerAdmin, "admin.yaml", `
environments:
  - name: dev
    servers:
      - {url: "https://dev.example.com:6443", caSHA256: "`+strings.ToUpper(devCA[:2])+":"+devCA[2:]+`"}
      - {url: "https://10.0.0.7"}
  - {name: prod, context: "*prod*"}
  - {name: prod, cluster: "dev-cluster"}
rules:
  - {name: dev-open, env: dev, class: destructive, decision: allow}
  - {name: prod-closed, env: prod, class: destructive, decision: deny}
`)
	e := engine(t, policy.Options{}, admin)
	del := func(ctx, cluster, server, ca string) *classify.Assessment {
		a := kube(classify.Destructive, "delete", "Pod", "web")
		a.Target = classify.Target{Context: ctx, Cluster: cluster, Server: server, CASHA256: ca, Namespace: "web"}
		return a
	}
	for _, tc := range []struct {
		name   string
		a      *classify.Assessment
		action policy.Action
		env    string
	}{
		{"the dev server with its CA is dev, whatever the names", del("anything", "anything", "https://dev.example.com:6443", devCA), policy.Allow, "dev"},
		{"the same server written another way", del("x", "x", "HTTPS://Dev.Example.com:6443/", devCA), policy.Allow, "dev"},
		{"a dev URL with another CA is not dev", del("x", "x", "https://dev.example.com:6443", otherCA), policy.Approve, "unknown"},
		{"a dev URL whose certificate is not checked is not dev", del("x", "x", "https://dev.example.com:6443", ""), policy.Approve, "unknown"},
		{"a URL-only entry matches any CA", del("x", "x", "https://10.0.0.7:443", otherCA), policy.Allow, "dev"},
		{"another port is another server", del("x", "x", "https://dev.example.com:6444", devCA), policy.Approve, "unknown"},
		{"userinfo is never a server", del("x", "x", "https://dev.example.com:6443@127.0.0.1:9999", devCA), policy.Approve, "unknown"},
		{"a prod cluster renamed like dev is not dev", del("kind-dev", "kind-dev", "https://prod.example.com:6443", ""), policy.Approve, "unknown"},
		{"a name-only prod entry still tightens", del("prod-eu", "x", "https://prod.example.com:6443", ""), policy.Deny, "prod"},
		{"and beats a bound dev entry when stricter", del("x", "dev-cluster", "https://dev.example.com:6443", devCA), policy.Deny, "prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(t, e, &policy.Input{Assessment: tc.a})
			if d.Action != tc.action || d.Env != tc.env {
				t.Errorf("got %s in env %q by %s (%s), want %s in env %q", d.Action, d.Env, d.Rule, d.Message, tc.action, tc.env)
			}
		})
	}
}

// TestNameOnlyLoosening checks that a trusted rule that would loosen the
// policy on names the agent writes is refused at load (policy check),
// with a hint, while the same names may still tighten.
func TestNameOnlyLoosening(t *testing.T) {
	def, _ := policy.Default()
	for _, tc := range []struct {
		name, src string
		want      string // "" loads
	}{
		{"allow in a context-named env", "environments:\n  - {name: dev, context: kind-*}\nrules:\n  - {env: dev, class: destructive, decision: allow}\n", "only context, cluster, workspace or dir names select"},
		{"allow in a cluster-named env", "environments:\n  - {name: dev, cluster: minikube}\nrules:\n  - {env: [dev], class: write, decision: allow}\n", "would allow in environment \"dev\""},
		{"sandboxed writes in a workspace-named env", "environments:\n  - {name: dev, workspace: dev}\nrules:\n  - {env: dev, class: write, decision: sandbox}\n", "would sandbox in environment"},
		{"allow by a context matcher", "rules:\n  - {context: kind-*, class: destructive, decision: allow}\n", "would allow by context"},
		{"allow by a dir matcher", "rules:\n  - {tool: terraform, dir: /src/dev/**, class: write, decision: allow}\n", "would allow by dir"},
		{"allow by a condition on the context", "rules:\n  - {class: write, when: \"target.context == 'dev'\", decision: allow}\n", "when: target.context"},
		{"allow by a condition on the cluster, indexed", "rules:\n  - {class: write, when: \"target['cluster'] == 'dev'\", decision: allow}\n", "when: target['cluster"},
		{"allow by a condition on the context via a computed key", "rules:\n  - {class: write, when: \"target['con' + 'text'] == 'dev'\", decision: allow}\n", "when: target"},
		{"allow by a condition over target's keys", "rules:\n  - {class: write, when: \"target.exists(k, k == 'cluster' && target[k] == 'dev')\", decision: allow}\n", "when: target"},
		{"allow by a condition on the working dir", "rules:\n  - {class: write, when: \"cwd.startsWith('/src/dev')\", decision: allow}\n", "when: cwd"},
		{"allow by a condition whose text names context in a string loads", "rules:\n  - {class: write, when: \"intent != 'target.context' && target.namespace == 'dev'\", decision: allow}\n", ""},
		{"deny in a context-named env loads", "environments:\n  - {name: prod, context: '*prod*'}\nrules:\n  - {env: prod, class: destructive, decision: deny}\n", ""},
		{"approve by a context matcher loads", "rules:\n  - {context: '*prod*', class: write, decision: approve}\n", ""},
		{"sandboxed reads by a context matcher load", "rules:\n  - {context: '*prod*', class: read, decision: sandbox}\n", ""},
		{"allow in an env a server also defines loads", "environments:\n  - {name: dev, context: kind-*}\n  - {name: dev, servers: [{url: 'https://10.0.0.1:6443'}]}\nrules:\n  - {env: dev, class: destructive, decision: allow}\n", ""},
		{"allow in a namespace env loads", "environments:\n  - {name: dev, namespace: dev-*}\nrules:\n  - {env: dev, class: destructive, decision: allow}\n", ""},
		{"allow in unknown loads", "rules:\n  - {env: unknown, class: write, decision: allow}\n", ""},
		{"allow by server in a condition loads", "rules:\n  - {class: write, when: \"target.server == 'https://10.0.0.1:6443' && target.caSHA256 == 'ab'\", decision: allow}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := layer(t, policy.LayerAdmin, "p.yaml", tc.src)
			_, err := policy.New([]policy.Layer{{Kind: policy.LayerDefault, File: def}, l}, policy.Options{})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				return
			}
			var le *policy.LoadError
			if !errors.As(err, &le) || le.ExitCode() != 78 || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "hint: bind the environment to the API server") {
				t.Errorf("error %v, want a LoadError (exit 78) containing %q and a hint", err, tc.want)
			}
		})
	}
}

// TestServersParse checks the servers: field.
func TestServersParse(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"userinfo in the url", "environments:\n  - {name: dev, servers: [{url: 'https://a:1@10.0.0.1:2'}]}\n", "user information"},
		{"no scheme", "environments:\n  - {name: dev, servers: [{url: '10.0.0.1:6443'}]}\n", "no scheme"},
		{"a bad fingerprint", "environments:\n  - {name: dev, servers: [{url: 'https://10.0.0.1', caSHA256: 'abc'}]}\n", "caSHA256 \"abc\" is not a SHA-256 in hex"},
		{"no url", "environments:\n  - {name: dev, servers: [{caSHA256: '" + devCA + "'}]}\n", "a server needs a url"},
		{"empty list", "environments:\n  - {name: dev, servers: []}\n", "servers must be a non-empty list"},
		{"unknown field", "environments:\n  - {name: dev, servers: [{url: 'https://10.0.0.1', ca: x}]}\n", "unknown field \"ca\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse("p.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

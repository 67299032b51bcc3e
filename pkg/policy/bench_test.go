package policy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// BenchmarkDecide200Rules20CEL decides one command against a layer of 200
// rules, 20 of them with a CEL condition, where the decision falls to the
// last rule: every rule is tried and every condition is evaluated (the
// worst case). Goal: ≤ 20 µs per decision.
func BenchmarkDecide200Rules20CEL(b *testing.B) {
	var src strings.Builder
	src.WriteString("environments:\n  - {name: dev, namespace: 'dev-*'}\n  - {name: prod, context: '*prod*'}\nrules:\n")
	for i := 0; i < 199; i++ {
		if i%10 == 0 {
			// Matches statically; the condition is false.
			fmt.Fprintf(&src, "  - {class: [write, destructive], env: dev, when: \"resources.exists(r, r.name == 'r%d') && agent.startsWith('bot')\", decision: allow}\n", i)
			continue
		}
		fmt.Fprintf(&src, "  - {tool: kubectl, class: write, namespace: 'team-%d-*', resource: [deployments.apps, statefulsets.apps], decision: allow}\n", i)
	}
	src.WriteString("  - {class: destructive, env: dev, decision: approve}\n")
	f, err := policy.Parse("bench.yaml", []byte(src.String()))
	if err != nil {
		b.Fatal(err)
	}
	if n := len(f.Rules); n != 200 {
		b.Fatalf("%d rules", n)
	}
	e := engine(b, policy.Options{}, policy.Layer{Kind: policy.LayerUser, File: f})
	a := kube(classify.Destructive, "delete", "Deployment", "dev-web")
	a.Resources[0].Group = "apps"
	in := &policy.Input{Assessment: a, Agent: "bot-1"}
	ctx := context.Background()
	if d, _ := e.Decide(ctx, in); d.Rule != "bench.yaml:204" {
		b.Fatalf("decided by %s (%s), want the last rule", d.Rule, d.Action)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideDefault decides a read with the default policy alone.
func BenchmarkDecideDefault(b *testing.B) {
	e := engine(b, policy.Options{})
	in := &policy.Input{Assessment: kube(classify.Read, "get", "Pod", "web")}
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

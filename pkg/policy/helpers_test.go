package policy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// layer parses src as a policy file of the given kind.
func layer(t testing.TB, kind policy.LayerKind, name, src string) policy.Layer {
	t.Helper()
	f, err := policy.Parse(name, []byte(strings.TrimLeft(src, "\n")))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return policy.Layer{Kind: kind, File: f}
}

// engine builds an engine of the default policy with extra layers above it.
func engine(t testing.TB, opts policy.Options, extra ...policy.Layer) *policy.Engine {
	t.Helper()
	def, err := policy.Default()
	if err != nil {
		t.Fatalf("default policy: %v", err)
	}
	e, err := policy.New(append([]policy.Layer{{Kind: policy.LayerDefault, File: def}}, extra...), opts)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	return e
}

// kube is a kubectl assessment of one class touching one resource.
func kube(class classify.Class, sub, kind, ns string) *classify.Assessment {
	a := &classify.Assessment{Tool: "kubectl", Class: class, Subcommand: sub,
		Target: classify.Target{Context: "kind-dev", Cluster: "kind-dev", Namespace: ns}}
	if kind != "" {
		a.Resources = []classify.Resource{{Kind: kind, Resource: strings.ToLower(kind) + "s", Namespace: ns, Name: "x", Class: class, Source: classify.SourceArgv}}
	}
	return a
}

func decide(t testing.TB, e *policy.Engine, in *policy.Input) policy.Decision {
	t.Helper()
	d, err := e.Decide(context.Background(), in)
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	return d
}

package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// TestBadPolicies checks that a broken policy file is refused with the
// position of every problem, as file:line:col.
func TestBadPolicies(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"invalid YAML", "rules:\n  - decision: deny\n   class: read\n", []string{"bad.yaml:3:1: invalid YAML: "}},
		{"unknown top-level field", "version: 1\nrulez: []\n", []string{`bad.yaml:2:1: unknown field "rulez"`}},
		{"unknown rule field", "rules:\n  - decision: deny\n    namespaces: [a]\n", []string{`bad.yaml:3:5: unknown field "namespaces"`}},
		{"invalid YAML: a tab", "rules:\n\t- decision: deny\n", []string{"bad.yaml:2:1: invalid YAML: found character that cannot start any token"}},
		{"invalid YAML: no line from the parser", "rules:\n  - a: b: c\n", []string{"bad.yaml:2:1: invalid YAML: mapping values are not allowed"}},
		{"two problems, both reported", "rules:\n  - {decision: maybe}\n  - {class: sometimes, decision: deny}\n", []string{`bad.yaml:2:16: unknown decision "maybe"`, `bad.yaml:3:13: unknown class "sometimes"`}},
		{"rule without a decision", "rules:\n  - class: read\n", []string{"bad.yaml:2:5: a rule needs a decision"}},
		{"CEL that does not parse", "rules:\n  - decision: deny\n    when: class == 'read' &&\n", []string{"bad.yaml:3:"}},
		{"CEL with an undeclared variable", "rules:\n  - decision: deny\n    when: tenant == 'prod'\n", []string{"bad.yaml:3:11: when: undeclared reference to 'tenant'"}},
		{"CEL that is not a bool", "rules:\n  - decision: deny\n    when: \"class + 'x'\"\n", []string{"bad.yaml:3:11: when: condition must be a bool"}},
		{"CEL type error", "rules:\n  - decision: deny\n    when: dryRun == 'yes'\n", []string{"bad.yaml:3:", "no matching overload"}},
		{"sandbox mode on an approve rule", "rules:\n  - {decision: approve, sandbox: required}\n", []string{"bad.yaml:2:34: sandbox: applies only to decision: sandbox"}},
		{"bad duration", "limits:\n  lockout: {denials: 3, window: soon}\n", []string{`bad.yaml:2:33: lockout.window must be a positive duration`}},
		{"repeated field", "rules:\n  - {decision: deny, decision: allow}\n", []string{`bad.yaml:2:22: field "decision" repeated`}},
		{"two documents", "rules: []\n---\nrules: []\n", []string{"bad.yaml:2:1: a policy file holds one YAML document"}},
		{"wrong version", "version: 2\n", []string{`bad.yaml:1:10: unsupported policy version "2"`}},
		{"empty matcher list", "rules:\n  - {namespace: [], decision: allow}\n", []string{"bad.yaml:2:17: namespace must not be empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := policy.Parse("bad.yaml", []byte(tc.src))
			var le *policy.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v, want a *LoadError", err)
			}
			if le.ExitCode() != 78 {
				t.Errorf("exit code %d, want 78", le.ExitCode())
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain %q", err, w)
				}
			}
			if strings.HasPrefix(tc.name, "two problems") && len(le.Issues) != 2 {
				t.Errorf("%d issues reported, want %d", len(le.Issues), len(tc.want))
			}
		})
	}
}

// TestCELRuntimeErrorDenies checks that a condition that fails at run time
// denies, in the name of its rule, instead of being skipped.
func TestCELRuntimeErrorDenies(t *testing.T) {
	l := layer(t, policy.LayerUser, "u.yaml", `
rules:
  - name: first-resource-in-dev
    class: write
    when: resources[0].namespace.startsWith('dev-')
    decision: allow
`)
	e := engine(t, policy.Options{}, l)
	a := kube(classify.Write, "scale", "", "dev-x") // no resources: index out of range
	d := decide(t, e, &policy.Input{Assessment: a})
	if d.Action != policy.Deny || d.Rule != "u.yaml:2" || d.RuleName != "first-resource-in-dev" {
		t.Errorf("got %s by %s (%s), want deny by u.yaml:2", d.Action, d.Rule, d.Message)
	}
	if !strings.Contains(d.Message, "condition failed") {
		t.Errorf("message %q does not say the condition failed", d.Message)
	}
	// The same rule, evaluable, allows.
	d = decide(t, e, &policy.Input{Assessment: kube(classify.Write, "scale", "Deployment", "dev-x")})
	if d.Action != policy.Allow {
		t.Errorf("got %s by %s, want allow", d.Action, d.Rule)
	}
}

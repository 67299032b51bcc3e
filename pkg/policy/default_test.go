package policy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

// TestDefaultPolicyTable checks the default table of DESIGN.md, class by
// class, for kubectl and terraform, in every environment.
func TestDefaultPolicyTable(t *testing.T) {
	e := engine(t, policy.Options{})
	for _, tc := range []struct {
		name    string
		a       *classify.Assessment
		action  policy.Action
		rule    string
		confirm bool
		inMsg   string
	}{
		{"read: kubectl get pods runs sandboxed", kube(classify.Read, "get", "Pod", "web"), policy.Sandbox, "reads-sandboxed", false, "sandbox"},
		{"terraform plan runs sandboxed", &classify.Assessment{Tool: "terraform", Class: classify.Read, Subcommand: "plan"}, policy.Sandbox, "terraform-plan-sandboxed", false, "sandbox"},
		{"secret: get secret -o yaml is denied", kube(classify.Secret, "get", "Secret", "web"), policy.Deny, "no-secret-reads", false, "brokers short-lived credentials"},
		{"privilege: apply a ClusterRoleBinding needs a typed confirmation", kube(classify.Privilege, "apply", "ClusterRoleBinding", ""), policy.Approve, "privilege-needs-human", true, "typing the target"},
		{"unknown: a plugin needs a typed confirmation", &classify.Assessment{Tool: "kubectl", Class: classify.Unknown, Subcommand: "foo"}, policy.Approve, "unknown-needs-human", true, "cannot fully understand"},
		{"exec: kubectl exec needs approval", kube(classify.Exec, "exec", "Pod", "web"), policy.Approve, "exec-needs-human", false, "workload"},
		{"write: patch a deployment needs approval", kube(classify.Write, "patch", "Deployment", "web"), policy.Approve, "changes-need-human", false, "approve"},
		{"destructive: delete needs approval", kube(classify.Destructive, "delete", "ConfigMap", "web"), policy.Approve, "changes-need-human", false, "approve"},
		{"terraform apply in an unmapped (so prod-like) workspace needs approval", &classify.Assessment{Tool: "terraform", Class: classify.Write, Subcommand: "apply", Target: classify.Target{Workspace: "default"}}, policy.Approve, "terraform-apply-prod", false, "deploy identity"},
		{"tofu destroy needs approval", &classify.Assessment{Tool: "tofu", Class: classify.Destructive, Subcommand: "destroy"}, policy.Approve, "terraform-apply-prod", false, "prod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(t, e, &policy.Input{Assessment: tc.a})
			if d.Action != tc.action || d.RuleName != tc.rule || d.Confirm != tc.confirm {
				t.Errorf("got %s by %s (%s) confirm=%v, want %s by %s confirm=%v", d.Action, d.RuleName, d.Rule, d.Confirm, tc.action, tc.rule, tc.confirm)
			}
			if !strings.HasPrefix(d.Rule, "builtin:default.yaml:") {
				t.Errorf("rule %q does not name the default policy's file:line", d.Rule)
			}
			if !strings.Contains(d.Message, tc.inMsg) {
				t.Errorf("message %q does not mention %q", d.Message, tc.inMsg)
			}
			if d.Env != "unknown" {
				t.Errorf("env %q, want unknown: the default maps no environment", d.Env)
			}
			if d.Action == policy.Sandbox && !d.SandboxRequired {
				t.Error("sandbox decision without sandbox: required")
			}
		})
	}
}

// TestDefaultGuarantees runs every class through the real pipeline with the
// default policy, with and without a human to ask, and checks what ran.
func TestDefaultGuarantees(t *testing.T) {
	e := engine(t, policy.Options{})
	for _, c := range classify.Classes() {
		for _, nonInteractive := range []bool{false, true} {
			name := fmt.Sprintf("%s, interactive", c)
			if nonInteractive {
				name = fmt.Sprintf("%s, non-interactive", c)
			}
			t.Run(name, func(t *testing.T) {
				a := kube(c, "verb", "Thing", "ns")
				d := decide(t, e, &policy.Input{Assessment: a, NonInteractive: nonInteractive})
				if d.Action == policy.Allow {
					t.Fatalf("the default policy allowed a %s command without the sandbox (rule %s)", c, d.Rule)
				}
				switch c {
				case classify.Privilege, classify.Unknown:
					if d.Action != policy.Approve || !d.Confirm {
						t.Errorf("%s: got %s confirm=%v, want approve with a typed confirmation", c, d.Action, d.Confirm)
					}
				case classify.Secret:
					if d.Action != policy.Deny {
						t.Errorf("secret: got %s, want deny", d.Action)
					}
				case classify.Read:
					if d.Action != policy.Sandbox {
						t.Errorf("read: got %s, want sandbox", d.Action)
					}
				default:
					if d.Action != policy.Approve {
						t.Errorf("%s: got %s, want approve", c, d.Action)
					}
				}

				// Through the pipeline, with an approver that always says yes:
				// without a human nothing that needs approval runs.
				ex := &fakeExec{}
				p := &pipeline.Pipeline{
					Classifiers:    map[string]pipeline.Classifier{"kubectl": fixedClass{a}},
					Decider:        e,
					Approver:       yes{},
					Auditor:        nopAudit{},
					Executor:       ex,
					NonInteractive: nonInteractive,
				}
				_, err := p.Run(context.Background(), &request.Request{ID: "r", Tool: "kubectl"}, run.Stdio{})
				var denied *pipeline.DeniedError
				wantRun := d.Action == policy.Sandbox || d.Action == policy.Approve && !nonInteractive
				if ex.ran != wantRun {
					t.Errorf("ran=%v, want %v (decision %s, err %v)", ex.ran, wantRun, d.Action, err)
				}
				if !wantRun && !errors.As(err, &denied) {
					t.Errorf("not run but the error is %v, not a denial (exit 77)", err)
				}
			})
		}
	}
}

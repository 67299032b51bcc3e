package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

type fakeClassifier struct {
	a   *classify.Assessment
	err error
}

func (f fakeClassifier) Classify(context.Context, *request.Request) (*classify.Assessment, error) {
	if f.a == nil {
		return nil, f.err
	}
	a := *f.a
	return &a, f.err
}

type fakeAuditor struct {
	decisions, results []*Event
	failDecision       error
}

func (f *fakeAuditor) Decision(ev *Event) error {
	f.decisions = append(f.decisions, ev)
	return f.failDecision
}
func (f *fakeAuditor) Result(ev *Event) error { f.results = append(f.results, ev); return nil }

type fakeExecutor struct{ ran int }

func (f *fakeExecutor) Execute(context.Context, *classify.Assessment, policy.Decision, run.Stdio) (*run.ExecReport, error) {
	f.ran++
	return &run.ExecReport{ExitCode: 3}, nil
}

type fakeApprover struct {
	ans approve.Answer
	err error
}

func (f fakeApprover) Approve(context.Context, *approve.Request) (approve.Answer, error) {
	return f.ans, f.err
}

func pipelineWith(a *classify.Assessment, classifyErr error, d policy.Action, ap approve.Approver) (*Pipeline, *fakeAuditor, *fakeExecutor) {
	au, ex := &fakeAuditor{}, &fakeExecutor{}
	return &Pipeline{
		Classifiers: map[string]Classifier{"kubectl": fakeClassifier{a: a, err: classifyErr}},
		Decider: DeciderFunc(func(context.Context, *policy.Input) (policy.Decision, error) {
			return policy.Decision{Action: d, Rule: "test:1"}, nil
		}),
		Approver: ap,
		Auditor:  au,
		Executor: ex,
	}, au, ex
}

func TestPipelineOutcomes(t *testing.T) {
	write := &classify.Assessment{Tool: "kubectl", Class: classify.Write, Exec: classify.Invocation{Args: []string{"apply", "-f", "-"}}}
	tests := []struct {
		name        string
		a           *classify.Assessment
		classifyErr error
		decision    policy.Action
		approver    approve.Approver
		wantRan     bool
		wantDenied  string // substring of the refusal, "" when it must run
	}{
		{"sandbox runs", write, nil, policy.Sandbox, nil, true, ""},
		{"deny never runs", write, nil, policy.Deny, nil, false, "denied: write"},
		{"approve without an approver is a denial", write, nil, policy.Approve, nil, false, "no approver available"},
		{"approve, approved: runs", write, nil, policy.Approve, fakeApprover{ans: approve.Answer{Approved: true, Channel: "tty"}}, true, ""},
		{"approve, refused with a reason", write, nil, policy.Approve, fakeApprover{ans: approve.Answer{Channel: "tty", Reason: "not on a friday"}}, false, "not on a friday"},
		{"an approver that fails approves nothing", write, nil, policy.Approve, fakeApprover{err: errors.New("terminal closed")}, false, "approval failed: terminal closed"},
		{"an unassessable command is refused whatever the policy", &classify.Assessment{Tool: "kubectl", Class: classify.Unknown, Refused: "remote manifest refused"}, nil, policy.Allow, nil, false, "remote manifest refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, au, ex := pipelineWith(tt.a, tt.classifyErr, tt.decision, tt.approver)
			code, err := p.Run(context.Background(), &request.Request{ID: "r1", Tool: "kubectl"}, run.Stdio{})
			if got := ex.ran > 0; got != tt.wantRan {
				t.Fatalf("ran = %v, want %v (err %v)", got, tt.wantRan, err)
			}
			if len(au.decisions) != 1 {
				t.Errorf("%d decision records, want exactly 1", len(au.decisions))
			}
			if tt.wantRan {
				if err != nil || code != 3 {
					t.Errorf("code %d, err %v: want the tool's exit code 3", code, err)
				}
				if len(au.results) != 1 {
					t.Errorf("%d result records, want 1", len(au.results))
				}
				return
			}
			var denied *DeniedError
			if !errors.As(err, &denied) || !strings.Contains(err.Error(), tt.wantDenied) {
				t.Errorf("err = %v, want a *DeniedError saying %q", err, tt.wantDenied)
			}
		})
	}
}

func TestPipelineFailsClosed(t *testing.T) {
	write := &classify.Assessment{Tool: "kubectl", Class: classify.Write}
	t.Run("the decision record cannot be written: nothing runs", func(t *testing.T) {
		p, au, ex := pipelineWith(write, nil, policy.Sandbox, nil)
		au.failDecision = errors.New("no space left on device")
		_, err := p.Run(context.Background(), &request.Request{Tool: "kubectl"}, run.Stdio{})
		var ae *AuditError
		if !errors.As(err, &ae) || ex.ran != 0 {
			t.Errorf("err = %v, ran %d: want an *AuditError and nothing run", err, ex.ran)
		}
	})
	t.Run("classification fails: nothing runs, the refusal is audited", func(t *testing.T) {
		p, au, ex := pipelineWith(nil, errors.New(`cannot read manifest "x"`), policy.Sandbox, nil)
		_, err := p.Run(context.Background(), &request.Request{Tool: "kubectl"}, run.Stdio{})
		if err == nil || ex.ran != 0 {
			t.Fatalf("err = %v, ran %d", err, ex.ran)
		}
		if len(au.decisions) != 1 || au.decisions[0].Decision.Action != policy.Deny {
			t.Errorf("want one deny decision record, got %+v", au.decisions)
		}
	})
	t.Run("an unknown tool is refused", func(t *testing.T) {
		p, _, ex := pipelineWith(write, nil, policy.Sandbox, nil)
		if _, err := p.Run(context.Background(), &request.Request{Tool: "helm"}, run.Stdio{}); err == nil || ex.ran != 0 {
			t.Errorf("err = %v, ran %d", err, ex.ran)
		}
	})
}

type prestartingExecutor struct {
	fakeExecutor
	started, released int
}

func (f *prestartingExecutor) Prestart()        { f.started++ }
func (f *prestartingExecutor) ReleasePrestart() { f.released++ }

func TestPrestart(t *testing.T) {
	read := &classify.Assessment{Tool: "kubectl", Class: classify.Read}
	for _, on := range []bool{false, true} {
		p, _, _ := pipelineWith(read, nil, policy.Sandbox, nil)
		ex := &prestartingExecutor{}
		p.Executor, p.Prestart = ex, on
		if _, err := p.Run(context.Background(), &request.Request{Tool: "kubectl", Args: []string{"get", "pods"}}, run.Stdio{}); err != nil {
			t.Fatal(err)
		}
		want := 0
		if on {
			want = 1
		}
		if ex.started != want || ex.released != want {
			t.Errorf("Prestart %v: started %d, released %d times, want %d", on, ex.started, ex.released, want)
		}
	}
}

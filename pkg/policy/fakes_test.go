package policy_test

import (
	"context"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

type fixedClass struct{ a *classify.Assessment }

func (f fixedClass) Classify(context.Context, *request.Request) (*classify.Assessment, error) {
	return f.a, nil
}

type yes struct{}

func (yes) Approve(context.Context, *approve.Request) (approve.Answer, error) {
	return approve.Answer{Approved: true, Channel: "tty"}, nil
}

type nopAudit struct{}

func (nopAudit) Decision(*pipeline.Event) error { return nil }
func (nopAudit) Result(*pipeline.Event) error   { return nil }

type fakeExec struct{ ran bool }

func (f *fakeExec) Execute(context.Context, *classify.Assessment, policy.Decision, run.Stdio) (*run.ExecReport, error) {
	f.ran = true
	return &run.ExecReport{}, nil
}

package pipeline

import (
	"context"
	"errors"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/credentials"
	"github.com/agentctl/agentctl/pkg/exitcode"
	"github.com/agentctl/agentctl/pkg/request"
)

// TargetChecked refuses, before anything else happens, kubectl flags that
// point a command outside the configured targets (--kubeconfig, --token,
// --server, --context): the agent may not bring its own identity.
type TargetChecked struct {
	Classifier
	Config *credentials.Config
}

// Classify refuses a command aimed outside the targets, else classifies it.
func (c TargetChecked) Classify(ctx context.Context, req *request.Request) (*classify.Assessment, error) {
	if err := c.Config.CheckTargetFlags(req.Args, credentials.FlagAllow{}); err != nil {
		return nil, &RefusedError{Err: err}
	}
	return c.Classifier.Classify(ctx, req)
}

// RefusedError is a refusal that needs no policy: exit 77.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return "denied: " + e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// ExitCode is exitcode.Denied.
func (e *RefusedError) ExitCode() int { return exitcode.Denied }

// Hint is the refusal's own hint, if it has one.
func (e *RefusedError) Hint() string {
	var h interface{ Hint() string }
	if errors.As(e.Err, &h) {
		return h.Hint()
	}
	return ""
}

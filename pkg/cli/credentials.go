package cli

import (
	"context"
	"errors"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/credentials"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/request"
)

// loadCredentials reads the credentials configuration, once per process:
// newPipeline and every tool lookup share it. Its location comes from
// agentctl's own process environment as the user started it
// (XDG_CONFIG_HOME, HOME). It returns nil, nil when there is none: then
// commands run with the kubeconfig the agent chose, as plain kubectl would.
func loadCredentials(f *Factory) (*credentials.Config, error) {
	f.creds.once.Do(func() { f.creds.cfg, f.creds.err = readCredentials(f) })
	return f.creds.cfg, f.creds.err
}

func readCredentials(f *Factory) (*credentials.Config, error) {
	path := f.Getenv("AGENTCTL_CONFIG")
	if path == "" {
		path = credentials.DefaultPath(f.Getenv)
	}
	cfg, err := credentials.Load(path)
	if errors.Is(err, credentials.ErrNoConfig) {
		return nil, nil
	}
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	return cfg, nil
}

// targetChecked refuses, before anything else happens, kubectl flags that
// point a command outside the configured targets (--kubeconfig, --token,
// --server, --context): the agent may not bring its own identity.
type targetChecked struct {
	pipeline.Classifier
	cfg *credentials.Config
}

func (c targetChecked) Classify(ctx context.Context, req *request.Request) (*classify.Assessment, error) {
	if err := c.cfg.CheckTargetFlags(req.Args, credentials.FlagAllow{}); err != nil {
		return nil, &refusedError{err: err}
	}
	return c.Classifier.Classify(ctx, req)
}

// refusedError is a refusal that needs no policy: exit 77.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return "denied: " + e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }
func (e *refusedError) ExitCode() int { return ExitDenied }
func (e *refusedError) Hint() string {
	var h hinted
	if errors.As(e.err, &h) {
		return h.Hint()
	}
	return ""
}

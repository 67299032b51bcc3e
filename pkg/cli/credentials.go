package cli

import (
	"errors"

	"github.com/agentctl/agentctl/pkg/credentials"
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

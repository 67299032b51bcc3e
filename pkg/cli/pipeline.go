package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/agentctl/agentctl/pkg/audit"
	kubectlclass "github.com/agentctl/agentctl/pkg/classify/kubectl"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/run"
)

// hinted error used for configuration problems.
type hintError struct {
	msg, hint string
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Hint() string  { return e.hint }

// newPipeline wires the pipeline's stages for this process. cleanup
// closes what it opened.
func newPipeline(f *Factory) (*run.Pipeline, func(), error) {
	self, err := f.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot find agentctl's own binary: %w", err)
	}
	home, _ := os.UserHomeDir()
	if h := f.Getenv("HOME"); h != "" {
		home = h
	}
	auditPath := audit.DefaultPath(f.Getenv)
	if auditPath == "" {
		return nil, nil, &ConfigError{Err: &hintError{msg: "cannot place the audit log: neither XDG_STATE_HOME nor HOME is set", hint: "set AGENTCTL_AUDIT_LOG to a file path"}}
	}
	log, err := audit.Open(auditPath, audit.Options{Warn: func(msg string) {
		fmt.Fprintf(f.IO.ErrOut, "agentctl: warning: %s\n", msg)
	}})
	if err != nil {
		return nil, nil, &run.AuditError{Err: err}
	}
	p := &run.Pipeline{
		Classifiers: newClassifiers(f, home),
		Decider: run.DeciderFunc(func(_ context.Context, in *policy.Input) (policy.Decision, error) {
			return policy.Interim(in), nil
		}),
		Auditor: &auditor{log: log, proc: audit.Self()},
		Executor: &run.LocalExecutor{
			Self: self,
			Env:  childEnv(f.Environ),
			Home: home,
			Deny: []string{filepath.Dir(auditPath)},
		},
		NonInteractive: f.NonInteractive(),
	}
	return p, func() { log.Close() }, nil
}

func cacheHome(f *Factory, home string) string {
	if c := f.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(c) {
		return c
	}
	return filepath.Join(home, ".cache")
}

// childEnv builds a child's base environment from the agent's through an
// allowlist: nothing that carries credentials or changes what the tool
// does (KUBECONFIG, KUBECTL_*, TF_*, cloud credentials) passes.
func childEnv(env []string) []string {
	allowed := map[string]bool{"PATH": true, "HOME": true, "LANG": true, "TERM": true, "TZ": true, "NO_COLOR": true, "USER": true, "LOGNAME": true, "TMPDIR": true}
	var out []string
	for _, kv := range env {
		k := kv
		if i := indexByte(kv, '='); i >= 0 {
			k = kv[:i]
		}
		if allowed[k] || len(k) > 3 && k[:3] == "LC_" {
			out = append(out, kv)
		}
	}
	return out
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// newClassifiers returns the classifiers of every tool agentctl wraps.
func newClassifiers(f *Factory, home string) map[string]run.Classifier {
	cacheDir := filepath.Join(cacheHome(f, home), "agentctl", "discovery")
	return map[string]run.Classifier{
		"kubectl": kubectlclass.New(kubectlclass.Options{CacheDir: cacheDir, Timeout: 2 * time.Second, Discovery: true}),
	}
}

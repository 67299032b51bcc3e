package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/agentctl/agentctl/pkg/credentials"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/redact"
)

// hinted error used for configuration problems.
type hintError struct {
	msg, hint string
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Hint() string  { return e.hint }

// newPipeline resolves this process's configuration (policy, admin
// config, audit log, credentials, tools) into a pipeline.Config, lets
// pipeline.New wire the stages, and sets the approver this process can
// reach. cleanup closes what it opened.
func newPipeline(f *Factory) (*pipeline.Pipeline, func(), error) {
	self, err := f.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot find agentctl's own binary: %w", err)
	}
	home, _ := os.UserHomeDir()
	if h := f.Getenv("HOME"); h != "" {
		home = h
	}
	engine, err := loadPolicy(f)
	if err != nil {
		return nil, nil, err
	}
	admin, err := loadAdmin(f)
	if err != nil {
		return nil, nil, err
	}
	log, auditPath, err := openAuditLog(f)
	if err != nil {
		return nil, nil, err
	}
	exp, err := auditExporter(f, auditPath)
	if err != nil {
		log.Close()
		return nil, nil, err
	}
	creds, err := loadCredentials(f)
	if err != nil {
		log.Close()
		flushExport(exp)
		return nil, nil, err
	}
	flags, err := flagTracker(f, auditPath)
	if err != nil {
		log.Close()
		flushExport(exp)
		return nil, nil, err
	}
	// terraform's own output while agentctl plans an apply reaches the
	// agent: redacted like everything else.
	planOut := redact.New(redact.Options{}).Writer(f.IO.ErrOut)
	p := pipeline.New(pipeline.Config{
		Self:           self,
		Home:           home,
		Environ:        f.Environ,
		Policy:         engine,
		AuditLog:       log,
		AuditDir:       filepath.Dir(auditPath),
		Flags:          flags,
		Credentials:    creds,
		FindTool:       func(tool string) (string, error) { return findTool(f, tool) },
		TerraformAllow: admin.terraformAllow(),
		AdminPolicy:    filepath.Join(f.adminDir(), "policy.yaml"),
		Deny:           nonEmpty(inboxKeyDir(f)),
		PlanDir:        filepath.Join(stateHome(f, home), "agentctl", "plans"),
		PlanOutput:     planOut,
		NonInteractive: f.NonInteractive(),
		Warn:           pipeline.WarnTo(f.IO.ErrOut),
	})
	wireConvergence(p.Convergence, f.IO.ErrOut, f.IO.IsStderrTTY())
	var approval credentials.ApprovalConfig
	if creds != nil {
		approval = creds.Approval
	}
	if err := wireApproval(f, p, approval); err != nil {
		log.Close()
		flushExport(exp)
		return nil, nil, err
	}
	wireSignedApprovals(f, p, admin)
	wireStanding(f, p, admin)
	// The command's records are in the log: send them (and any backlog)
	// to the collector on the way out, bounded by exportTimeout.
	return p, func() { planOut.Close(); log.Close(); flushExport(exp) }, nil
}

func stateHome(f *Factory, home string) string {
	if s := f.Getenv("XDG_STATE_HOME"); filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(home, ".local", "state")
}

// nonEmpty is the list of the paths that are set.
func nonEmpty(paths ...string) []string {
	var out []string
	for _, p := range paths {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/classify"
	kubectlclass "github.com/agentctl/agentctl/pkg/classify/kubectl"
	tfclass "github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/credentials"
	"github.com/agentctl/agentctl/pkg/redact"
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
	allowEnv := append([]string(nil), terraformEnv...)
	var broker run.CredentialSource
	// Without a broker, kubectl runs with the agent's kubeconfig: pin the
	// exact bytes that were assessed.
	pin := run.PinKubeconfig
	if creds != nil && len(creds.Targets) > 0 {
		broker = credentials.NewBroker(creds)
		pin = nil
		allowEnv = append(allowEnv, creds.Env.Allow...)
	}
	executor := &run.LocalExecutor{
		Self:           self,
		Env:            credentials.ChildEnv(f.Environ, allowEnv),
		Home:           home,
		Deny:           []string{filepath.Dir(auditPath)},
		Terraform:      func(tool string) (string, error) { return findTool(f, tool) },
		Credentials:    broker,
		TerraformAllow: admin.terraformAllow(),
		AdminPolicy:    filepath.Join(f.adminDir(), "policy.yaml"),
	}
	// terraform's own output while agentctl plans an apply reaches the
	// agent: redacted like everything else.
	planOut := redact.New(redact.Options{}).Writer(f.IO.ErrOut)
	classifiers := newClassifiers(f, home, executor.SandboxedTerraform, planOut, admin.terraformAllow())
	if creds != nil && len(creds.Targets) > 0 {
		// The configuration may hold agentctl's own Vault secrets.
		executor.Deny = append(executor.Deny, filepath.Dir(creds.Path()))
		classifiers["kubectl"] = targetChecked{Classifier: classifiers["kubectl"], cfg: creds}
	}
	p := &run.Pipeline{
		Classifiers: classifiers,
		Cleanup:     cleanupAssessment,
		Decider:     engine,
		Auditor: &observingAuditor{
			Auditor:        &auditor{log: log, proc: audit.Self()},
			engine:         engine,
			nonInteractive: f.NonInteractive(),
			warn: func(err error) {
				fmt.Fprintf(f.IO.ErrOut, "agentctl: warning: cannot record the outcome for the lockout: %v\n", err)
			},
		},
		Pin:            pin,
		Executor:       executor,
		Preview:        executor.Preview,
		NonInteractive: f.NonInteractive(),
	}
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

// terraformEnv are the TF_* variables that configure terraform itself
// (where providers come from, which workspace, input variables) rather
// than its arguments: TF_CLI_ARGS* are applied by the classifier and never
// reach the child.
var terraformEnv = []string{"TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR", "TF_DATA_DIR", "TF_WORKSPACE", "TF_IN_AUTOMATION", "TF_INPUT", "TF_VAR_*"}

// newClassifiers returns the classifiers of every tool agentctl wraps.
// tfRun runs the plans the terraform classifier makes (nil: unsandboxed,
// for tests of pure classification).
// planOut receives terraform's output while it plans (nil: discarded).
// allow is what the admin config allows in terraform's CLI configuration.
func newClassifiers(f *Factory, home string, tfRun tfclass.RunFunc, planOut io.Writer, allow tfclass.CLIConfigAllow) map[string]run.Classifier {
	tf, _ := findTool(f, "terraform")
	tofu, _ := findTool(f, "tofu")
	tfc := tfclass.New(tfclass.Options{
		Terraform:  tf,
		Tofu:       tofu,
		ScratchDir: filepath.Join(stateHome(f, home), "agentctl", "plans"),
		PlanOutput: planOut,
		Run:        tfRun,
		Home:       home,
		Allow:      allow,
	})
	return map[string]run.Classifier{
		"kubectl":   kubectlclass.New(kubectlclass.Options{Timeout: 2 * time.Second, Discovery: kubectlclass.LiveDiscovery}),
		"terraform": tfc,
		"tofu":      tfc,
	}
}

// cleanupAssessment removes what classifying made: terraform plan files
// agentctl owns, snapshots of a command's input files.
func cleanupAssessment(a *classify.Assessment) {
	tfclass.Cleanup(a)
	if a.Exec.Scratch != "" {
		os.RemoveAll(a.Exec.Scratch)
	}
}

package pipeline

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
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/run"
)

// Config is what a face (the one-shot CLI, a broker worker) resolved
// before a request runs: the files it read and the paths it found. [New]
// wires the stages from it and reads nothing from the process
// environment itself.
type Config struct {
	// Self is the path of the agentctl binary (kubectl runs as a child
	// of it).
	Self string
	// Home is the user's home directory: its credential stores are denied
	// to sandboxed commands.
	Home string
	// Environ is the agent's environment; children get only what an
	// allowlist lets through (see credentials.ChildEnv).
	Environ []string
	// Policy decides and, through [ObservingAuditor], counts strikes.
	Policy *policy.Engine
	// AuditLog receives the decision and result records; AuditDir (the
	// log's directory) is denied to sandboxed commands.
	AuditLog *audit.Log
	AuditDir string
	// Flags, when set, raises the behavioural flags (nil: off).
	Flags *audit.Tracker
	// Credentials is the credentials configuration, nil when there is
	// none: then kubectl runs with the agent's kubeconfig, pinned to the
	// bytes that were assessed.
	Credentials *credentials.Config
	// FindTool returns the path of the real terraform or tofu binary.
	FindTool func(tool string) (string, error)
	// TerraformAllow is what the admin config allows in terraform's CLI
	// configuration.
	TerraformAllow tfclass.CLIConfigAllow
	// AdminPolicy is root's policy file, named in hints.
	AdminPolicy string
	// Deny lists more of agentctl's own files no sandboxed command may
	// reach (the inbox key's directory), besides AuditDir and the
	// credentials configuration's directory.
	Deny []string
	// PlanDir is where the terraform classifier writes the plans it makes.
	PlanDir string
	// PlanOutput receives terraform's output while agentctl plans (nil:
	// discarded); the face redacts it.
	PlanOutput io.Writer
	// NonInteractive: nobody can be asked; approve becomes deny.
	NonInteractive bool
	// Warn reports what does not fail the command (a lockout outcome that
	// could not be recorded).
	Warn func(error)
}

// terraformEnv are the TF_* variables that configure terraform itself
// (where providers come from, which workspace, input variables) rather
// than its arguments: TF_CLI_ARGS* are applied by the classifier and never
// reach the child.
var terraformEnv = []string{"TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR", "TF_DATA_DIR", "TF_WORKSPACE", "TF_IN_AUTOMATION", "TF_INPUT", "TF_VAR_*"}

// New wires the stages of cfg into a pipeline: the classifiers (kubectl
// behind the target check when credentials are configured), the policy,
// the audit log with the lockout observer beside it, and the local
// executor (credentials, sandbox, redaction). The approver is the face's
// to set: it depends on the terminal and the inbox the face can reach.
func New(cfg Config) *Pipeline {
	allowEnv := append([]string(nil), terraformEnv...)
	var broker run.CredentialSource
	// Without a broker, kubectl runs with the agent's kubeconfig: pin the
	// exact bytes that were assessed.
	pin := run.PinKubeconfig
	creds := cfg.Credentials
	brokered := creds != nil && len(creds.Targets) > 0
	if brokered {
		broker = credentials.NewBroker(creds)
		pin = nil
		allowEnv = append(allowEnv, creds.Env.Allow...)
	}
	executor := &run.LocalExecutor{
		Self:           cfg.Self,
		Env:            credentials.ChildEnv(cfg.Environ, allowEnv),
		Home:           cfg.Home,
		Deny:           []string{cfg.AuditDir},
		Terraform:      cfg.FindTool,
		Credentials:    broker,
		TerraformAllow: cfg.TerraformAllow,
		AdminPolicy:    cfg.AdminPolicy,
	}
	classifiers := NewClassifiers(cfg.FindTool, cfg.Home, cfg.PlanDir, executor.SandboxedTerraform, cfg.PlanOutput, cfg.TerraformAllow)
	if brokered {
		// The configuration may hold agentctl's own Vault secrets.
		executor.Deny = append(executor.Deny, filepath.Dir(creds.Path()))
		classifiers["kubectl"] = TargetChecked{Classifier: classifiers["kubectl"], Config: creds}
	}
	executor.Deny = append(executor.Deny, cfg.Deny...)
	var conv *Convergence
	if cfg.Policy != nil {
		if c := cfg.Policy.Convergence(); c.Timeout > 0 {
			conv = &Convergence{Timeout: c.Timeout, Cluster: executor.ClusterReader}
		}
	}
	warn := cfg.Warn
	if warn == nil {
		warn = func(error) {}
	}
	return &Pipeline{
		Classifiers: classifiers,
		Cleanup:     CleanupAssessment,
		Decider:     cfg.Policy,
		Auditor: &ObservingAuditor{
			Auditor:        &LogAuditor{Log: cfg.AuditLog, Proc: audit.Self()},
			Engine:         cfg.Policy,
			NonInteractive: cfg.NonInteractive,
			Warn:           warn,
		},
		Pin:            pin,
		Flags:          flagger(cfg.Flags),
		Executor:       executor,
		Preview:        executor.Preview,
		NonInteractive: cfg.NonInteractive,
		Convergence:    conv,
	}
}

// flagger keeps a nil tracker a nil interface.
func flagger(t *audit.Tracker) Flagger {
	if t == nil {
		return nil
	}
	return t
}

// NewClassifiers returns the classifiers of every tool agentctl wraps.
// findTool finds terraform and tofu (a tool it cannot find classifies
// nothing that needs it); planDir is where plans are made.
// tfRun runs the plans the terraform classifier makes (nil: unsandboxed,
// for tests of pure classification).
// planOut receives terraform's output while it plans (nil: discarded).
// allow is what the admin config allows in terraform's CLI configuration.
func NewClassifiers(findTool func(string) (string, error), home, planDir string, tfRun tfclass.RunFunc, planOut io.Writer, allow tfclass.CLIConfigAllow) map[string]Classifier {
	var tf, tofu string
	if findTool != nil {
		tf, _ = findTool("terraform")
		tofu, _ = findTool("tofu")
	}
	tfc := tfclass.New(tfclass.Options{
		Terraform:  tf,
		Tofu:       tofu,
		ScratchDir: planDir,
		PlanOutput: planOut,
		Run:        tfRun,
		Home:       home,
		Allow:      allow,
	})
	return map[string]Classifier{
		"kubectl":   kubectlclass.New(kubectlclass.Options{Timeout: 2 * time.Second, Discovery: kubectlclass.LiveDiscovery}),
		"terraform": tfc,
		"tofu":      tfc,
	}
}

// CleanupAssessment removes what classifying made: terraform plan files
// agentctl owns, snapshots of a command's input files.
func CleanupAssessment(a *classify.Assessment) {
	tfclass.Cleanup(a)
	if a.Exec.Scratch != "" {
		os.RemoveAll(a.Exec.Scratch)
	}
}

// WarnTo is a Config.Warn that prints the lockout warning to w.
func WarnTo(w io.Writer) func(error) {
	return func(err error) {
		fmt.Fprintf(w, "agentctl: warning: cannot record the outcome for the lockout: %v\n", err)
	}
}

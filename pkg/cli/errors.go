package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/classify"
	kubectlclass "github.com/agentctl/agentctl/pkg/classify/kubectl"
	tfclass "github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/exitcode"
	"github.com/agentctl/agentctl/pkg/pipeline"
)

// ExitError carries a wrapped tool's exit code; it prints nothing.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// UsageError is a mistake in how agentctl was called.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// ConfigError is a broken configuration or policy.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// hinted is an error with a hint line for the user.
type hinted interface{ Hint() string }

// exitCode maps an error to agentctl's exit code. It is the only place
// that does.
func exitCode(err error) int {
	var (
		exit    *ExitError
		usage   *UsageError
		config  *ConfigError
		denied  *pipeline.DeniedError
		auditer *pipeline.AuditError
		coder   interface{ ExitCode() int }
		planErr *tfclass.PlanError
	)
	switch {
	case err == nil:
		return exitcode.OK
	case errors.As(err, &exit):
		return exit.Code
	case errors.As(err, &denied):
		if te := denied.ToolError(); te != nil {
			return te.ExitCode
		}
		return exitcode.Denied
	case errors.As(err, &auditer):
		return exitcode.Audit
	case errors.As(err, &usage):
		return exitcode.Usage
	case errors.As(err, &config):
		return exitcode.Config
	case errors.As(err, &coder):
		return coder.ExitCode()
	case errors.Is(err, kubectlclass.ErrManifest):
		return exitcode.Usage
	case errors.As(err, &planErr):
		return planErr.ExitCode
	}
	return exitcode.Internal
}

// printError writes err as agentctl's one-line message (plus a hint line
// when the error has one), or, with --output json, as one JSON object.
func printError(w io.Writer, err error, asJSON bool) {
	var exit *ExitError
	var planErr *tfclass.PlanError
	if errors.As(err, &exit) || errors.As(err, &planErr) && !asJSON {
		return // the tool said it already
	}
	var tool *pipeline.DeniedError
	if errors.As(err, &tool) && tool.ToolError() != nil && !asJSON {
		// The tool's own words: what it would have printed.
		io.WriteString(w, tool.ToolError().Stderr)
		return
	}
	code := exitCode(err)
	hint := ""
	var h hinted
	if errors.As(err, &h) {
		hint = h.Hint()
	}
	var auditErr *audit.WriteError
	if _, worker := os.LookupEnv(client.WorkerEnv); worker && errors.As(err, &auditErr) {
		// The agent's environment does not choose the broker's log.
		hint += "; the log is the broker's: " + audit.EnvPath + " in the environment agentctl serve starts with, not the agent's"
	}
	if asJSON {
		obj := map[string]any{"error": err.Error(), "exitCode": code}
		if hint != "" {
			obj["hint"] = hint
		}
		var denied *pipeline.DeniedError
		if errors.As(err, &denied) {
			obj["decision"] = "deny"
			obj["rule"] = denied.Decision.Rule
			obj["reason"] = denied.Message
			if te := denied.ToolError(); te != nil {
				obj["toolStderr"] = te.Stderr
			}
			if denied.RequestID != "" {
				obj["requestId"] = denied.RequestID
			}
			if denied.ApprovalHash != "" {
				obj["approvalHash"] = denied.ApprovalHash
			}
			if denied.Assessment != nil {
				obj["target"] = jsonTarget(denied.Assessment)
				obj["resources"] = jsonResources(denied.Assessment)
				obj["class"] = denied.Assessment.Class.String()
				obj["subcommand"] = denied.Assessment.Subcommand
				var reasons []string
				for _, r := range denied.Assessment.Reasons {
					reasons = append(reasons, r.Message)
				}
				obj["reasons"] = reasons
			}
			if denied.Answer != nil {
				obj["approver"] = denied.Answer.Channel
			}
		}
		b, _ := json.Marshal(obj)
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(w, "agentctl: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(w, "hint: %s\n", hint)
	}
}

// refusalTarget is where a refused command would have gone, for agents:
// the kubectl context, cluster, server and namespace, or the terraform
// working directory and workspace, and the environment the policy named.
type refusalTarget struct {
	Context   string `json:"context,omitempty"`
	Cluster   string `json:"cluster,omitempty"`
	Server    string `json:"server,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Dir       string `json:"dir,omitempty"`
	Workspace string `json:"workspace,omitempty"`
	Env       string `json:"env,omitempty"`
}

func jsonTarget(a *classify.Assessment) refusalTarget {
	t := a.Target
	return refusalTarget{Context: t.Context, Cluster: t.Cluster, Server: t.Server, Namespace: t.Namespace,
		Dir: t.Dir, Workspace: t.Workspace, Env: t.Env}
}

// jsonResources is never null: an agent may range over it.
func jsonResources(a *classify.Assessment) []classify.Resource {
	if a.Resources == nil {
		return []classify.Resource{}
	}
	return a.Resources
}

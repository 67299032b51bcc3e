package policy

import (
	"fmt"

	"github.com/agentctl/agentctl/pkg/classify"
)

// Action is what a policy decides to do with a command.
type Action string

// The four decisions a policy can make.
const (
	// Allow runs the command without a sandbox. Only a user policy that
	// says so explicitly yields it.
	Allow Action = "allow"
	// Sandbox runs the command inside the read sandbox.
	Sandbox Action = "sandbox"
	// Approve asks a human first; with no approver it is a denial.
	Approve Action = "approve"
	// Deny refuses the command.
	Deny Action = "deny"
)

// ParseAction parses an action name.
func ParseAction(s string) (Action, error) {
	switch a := Action(s); a {
	case Allow, Sandbox, Approve, Deny:
		return a, nil
	}
	return "", fmt.Errorf("unknown decision %q", s)
}

// strictness orders actions from the most to the least permissive.
func (a Action) strictness() int {
	switch a {
	case Allow:
		return 0
	case Sandbox:
		return 1
	case Approve:
		return 2
	}
	return 3
}

// Decision is the policy's verdict on one assessment.
type Decision struct {
	Action Action `json:"decision"`
	// Rule names the rule that decided, as file:line (or a built-in name).
	Rule string `json:"rule"`
	// RuleName is the rule's name: field, when it has one.
	RuleName string `json:"ruleName,omitempty"`
	Message  string `json:"message,omitempty"`
	// Env is the environment name the target mapped to.
	Env string `json:"env,omitempty"`
	// SandboxRequired: the command must not run if the sandbox cannot be
	// fully enforced.
	SandboxRequired bool `json:"sandboxRequired,omitempty"`
	// Confirm: the approver must type the target's name to approve.
	Confirm bool `json:"confirm,omitempty"`
	// Flags are the behavioural flags the command raised (Input.Flags).
	Flags []string `json:"flags,omitempty"`
	// Lockout: the denial locks the agent out (a flags: entry said
	// lockout); [Engine.Observe] records it.
	Lockout bool `json:"lockout,omitempty"`
}

// Input is everything a policy may look at.
type Input struct {
	Assessment     *classify.Assessment
	Agent          string
	Intent         string
	Cwd            string
	NonInteractive bool
	// Flags are the behavioural flags the command raised (names of
	// [FlagNames]), computed from the audit log before it is decided.
	Flags []string
}

package pipeline

import (
	"fmt"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// DeniedError is returned when policy or the approver refused a command.
// Nothing of the command ran.
type DeniedError struct {
	// RequestID is the request's id, as in its audit records and in the
	// inbox.
	RequestID string
	// ApprovalHash is the hash of what an approver was shown, when one
	// was asked; the inbox names the request by its first 12 characters.
	ApprovalHash string
	Assessment   *classify.Assessment
	Decision     policy.Decision
	Answer       *approve.Answer
	Message      string
	// ModeHint, when set, is the hint that fits how agentctl runs (CI,
	// an inbox it did not use); it replaces the generic one.
	ModeHint string
}

func (e *DeniedError) Error() string {
	c := "unknown"
	why := ""
	if a := e.Assessment; a != nil {
		c = a.Class.String()
		// Name the finding that set the class: the first reason of the
		// highest class.
		for _, r := range a.Reasons {
			if r.Class == a.Class {
				why = r.Message
				break
			}
		}
	}
	msg := "denied: " + c
	if why != "" {
		msg += " (" + why + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Decision.Rule != "" {
		msg += fmt.Sprintf(" [rule %s]", e.Decision.Rule)
	}
	return msg
}

// ToolError returns the wrapped tool's own rejection, when that is why
// the command was denied.
func (e *DeniedError) ToolError() *classify.ToolError {
	if e.Assessment == nil || e.Decision.Rule != RuleToolRejects {
		return nil
	}
	return e.Assessment.ToolError
}

// Hint tells the user how to proceed.
func (e *DeniedError) Hint() string {
	if e.ModeHint != "" {
		return e.ModeHint
	}
	if a := e.Assessment; a != nil && a.Refused != "" && a.RefusedHint != "" && e.Decision.Rule == RuleUnassessable {
		return a.RefusedHint
	}
	if e.Decision.Action == policy.Approve && (e.Answer == nil || e.Answer.Channel == "none") {
		return "a human must approve this: run it where agentctl can ask one (a terminal, or `agentctl inbox` running), or change the policy"
	}
	return ""
}

// AuditError is returned when an audit record could not be written.
// Before execution it means the command did not run.
type AuditError struct {
	Err   error
	After bool // the result record failed; the command had run
}

func (e *AuditError) Error() string {
	if e.After {
		return fmt.Sprintf("command ran but its result could not be audited: %v", e.Err)
	}
	return fmt.Sprintf("command not run: cannot write the audit record: %v", e.Err)
}

func (e *AuditError) Unwrap() error { return e.Err }

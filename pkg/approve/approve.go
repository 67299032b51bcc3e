// Package approve asks a human whether a command may run.
//
// An [Approver] receives a [Request] — one command, bound to the SHA-256 of
// exactly what would run — and returns an [Answer]. The answer names one
// request; it cannot be reused for another.
package approve

import (
	"context"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/request"
)

// Request is what an approver is asked about.
type Request struct {
	// Hash binds the approval to exactly what runs: see [HashOf].
	Hash       string
	Req        *request.Request
	Assessment *classify.Assessment
	Decision   policy.Decision
	// Diff is the human-readable change: a server-side dry-run diff for
	// kubectl, the rendered plan for terraform. May be empty.
	Diff string
	// Live is what a delete matches now (see [Live]); nil when not read.
	Live *Live
	// NoOp: a server-side dry run found nothing to change, reliably (see
	// the Preview hook of pkg/run).
	NoOp    bool
	Expires time.Time
}

// Answer is a human's verdict.
type Answer struct {
	Approved bool          `json:"approved"`
	Approver string        `json:"approver,omitempty"` // who answered (OS user or inbox key id)
	Channel  string        `json:"channel"`            // tty, inbox, none
	Reason   string        `json:"reason,omitempty"`   // typed reason, if any
	Latency  time.Duration `json:"latency"`
}

// Approver asks a human.
type Approver interface {
	Approve(ctx context.Context, r *Request) (Answer, error)
}

// None is the non-interactive approver: every request is denied.
type None struct{ Why string }

// Approve implements [Approver].
func (n None) Approve(context.Context, *Request) (Answer, error) {
	why := n.Why
	if why == "" {
		why = "no approver available (non-interactive)"
	}
	return Answer{Approved: false, Channel: "none", Reason: why}, nil
}

var _ Approver = None{}

// HashOf returns the SHA-256 that binds an approval to one request: to
// exactly what it would run (the request id, the tool, the argv handed to
// it, its working directory, the manifest bytes fed to it, the kubeconfig
// snapshot, the plan file applied with the terraform CLI configuration,
// lock file and providers it is applied with) and to everything the approval
// screen shows about it (see [Content.Sum]). Set r.Diff first: the diff
// is shown, so it is covered too.
func HashOf(r *Request) string {
	return ContentOf(r).Sum()
}

package audit

import (
	"os"
	"strings"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/converge"
	"github.com/agentctl/agentctl/pkg/request"
)

// Version is the schema version written in every record's "v" field.
// Readers accept records of this version and below.
const Version = 1

// Genesis is the prev value of the first record of a log file: 64 zeros.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Kind says which event a record describes.
type Kind string

// The record kinds.
const (
	// KindDecision is written before the command runs: what was asked and
	// what was decided.
	KindDecision Kind = "decision"
	// KindResult is written after the command ran (or was refused): exit
	// code, duration, output size.
	KindResult Kind = "result"
	// KindRepair is written by the writer that found a torn last line (a
	// crash mid-write) before its own record; it names the torn bytes.
	KindRepair Kind = "repair"
	// KindBroker is written by the broker (agentctl serve) for a
	// connection it refused or dropped: another user's, one that sent
	// garbage or an oversize frame, a request it could not start. Note
	// says what, Error why; UID and PID are the peer's. No request ran.
	KindBroker Kind = "broker"
	// KindConvergence is written after a change ran, by the same request
	// (same id): what the change meant (the intents) and where its
	// objects stand (see package converge).
	KindConvergence Kind = "convergence"
)

// Record is one line of the audit log. Field order is the order on disk;
// v, seq, prev and kind come first so that [Verify] can read them without
// decoding the whole line. The schema is documented in docs/audit.md.
type Record struct {
	V    int    `json:"v"`
	Seq  int64  `json:"seq"`  // 1 for the first record of a file, then +1
	Prev string `json:"prev"` // hex SHA-256 of the previous record's line, or Genesis
	Kind Kind   `json:"kind"`

	Time time.Time `json:"time"`
	ID   string    `json:"id,omitempty"` // request id, links decision and result

	// Who.
	User   string `json:"user,omitempty"` // OS user name
	UID    int    `json:"uid"`
	PID    int    `json:"pid"`
	PPID   int    `json:"ppid"`
	Parent string `json:"parent,omitempty"` // the parent process's command name
	Agent  string `json:"agent,omitempty"`
	Intent string `json:"intent,omitempty"`

	// What.
	Tool   string           `json:"tool,omitempty"`
	Args   []string         `json:"args,omitempty"` // masked, see MaskArgs
	Cwd    string           `json:"cwd,omitempty"`
	Target *classify.Target `json:"target,omitempty"`
	// Class is nil on repair records.
	Class          *classify.Class     `json:"class,omitempty"`
	Resources      []classify.Resource `json:"resources,omitempty"`
	ManifestSHA256 string              `json:"manifestSha256,omitempty"`
	PlanSHA256     string              `json:"planSha256,omitempty"`
	PlanSummary    string              `json:"planSummary,omitempty"`

	// Decision.
	Decision string `json:"decision,omitempty"` // allow | sandbox | approve | deny
	Rule     string `json:"rule,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Approval string `json:"approval,omitempty"` // approved | denied | timeout, when asked
	Approver string `json:"approver,omitempty"`
	Channel  string `json:"channel,omitempty"` // tty | inbox | none
	// DecideMS is how long the human took to answer, in milliseconds.
	DecideMS float64 `json:"decideMs,omitempty"`
	// ApprovalHash is the hash the approval was bound to.
	ApprovalHash string `json:"approvalHash,omitempty"`
	// Grant is the id of the time-boxed grant that approved the request
	// in place of a human (channel "grant"); BreakGlass the id of the
	// break-glass that did (channel "break-glass", flagged break-glass).
	Grant      string `json:"grant,omitempty"`
	BreakGlass string `json:"breakGlass,omitempty"`
	// Flags are the behavioural flags the command raised (see
	// [Tracker]); a flagged record is exported with severity WARN.
	Flags []Flag `json:"flags,omitempty"`

	// Result.
	Executed    bool           `json:"executed,omitempty"`
	Sandbox     string         `json:"sandbox,omitempty"`  // enforcement summary
	Identity    string         `json:"identity,omitempty"` // credential identity used, never the credential
	Leases      string         `json:"leases,omitempty"`   // Vault lease ids of that credential, comma-separated
	Exit        *int           `json:"exit,omitempty"`
	DurationMS  float64        `json:"durationMs,omitempty"`
	OutputBytes int64          `json:"outputBytes,omitempty"`
	Redacted    bool           `json:"redacted,omitempty"` // whether redaction fired
	Redactions  map[string]int `json:"redactions,omitempty"`
	Error       string         `json:"error,omitempty"`

	// Convergence.
	Convergence *converge.Report `json:"convergence,omitempty"`

	// Repair.
	Torn []Torn `json:"torn,omitempty"`
	Note string `json:"note,omitempty"`
}

// Torn names one line a crashed writer left behind, skipped by a repair
// record: its length and the SHA-256 of its bytes (without a newline).
type Torn struct {
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Process describes the process writing a record. [Self] fills it from the
// running process.
type Process struct {
	User   string
	UID    int
	PID    int
	PPID   int
	Parent string
}

// Self describes the running process: its user, pid, parent pid and the
// parent's command name (from /proc; empty where unavailable).
func Self() Process {
	p := Process{UID: os.Getuid(), PID: os.Getpid(), PPID: os.Getppid()}
	if b, err := os.ReadFile("/proc/" + itoa(p.PPID) + "/comm"); err == nil {
		p.Parent = strings.TrimSpace(string(b))
	}
	p.User = userName(p.UID)
	return p
}

// NewBrokerEvent is a [KindBroker] record: what the broker refused (note)
// and why (errText), about the peer of uid and pid.
func NewBrokerEvent(uid, pid int, note, errText string, now time.Time) *Record {
	return &Record{V: Version, Kind: KindBroker, Time: now, UID: uid, PID: pid, User: userName(uid), Note: note, Error: errText}
}

// NewDecision starts the decision record of a request: who asked, why,
// what (masked argv), and what the classifier found. The caller fills the
// decision fields (Decision, Rule, Reason, Approval, Approver, Channel)
// and then calls [Log.Append] before running anything.
func NewDecision(p Process, req *request.Request, a *classify.Assessment) *Record {
	r := &Record{
		Kind: KindDecision, Time: req.Time, ID: req.ID,
		User: p.User, UID: p.UID, PID: p.PID, PPID: p.PPID, Parent: p.Parent,
		Agent: req.Agent, Intent: req.Intent,
		Tool: req.Tool, Args: MaskArgs(req.Tool, req.Args), Cwd: req.Cwd,
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if a != nil {
		c := a.Class
		t := a.Target
		r.Class, r.Target = &c, &t
		r.Resources = a.Resources
		r.ManifestSHA256 = a.ManifestSHA256
		if a.Plan != nil {
			r.PlanSHA256, r.PlanSummary = a.Plan.SHA256, a.Plan.Summary
		}
	}
	return r
}

// NewResult starts the result record that follows decision d. It copies
// the fields a reader filters on (request id, who, tool, class, decision)
// so that each record stands on its own; the caller fills the outcome.
func NewResult(d *Record, now time.Time) *Record {
	return &Record{
		Kind: KindResult, Time: now, ID: d.ID,
		User: d.User, UID: d.UID, PID: d.PID, PPID: d.PPID, Parent: d.Parent,
		Agent: d.Agent, Tool: d.Tool, Class: d.Class, Decision: d.Decision,
	}
}

// NewConvergence is the convergence record of the change decision d
// allowed: linked to it and to its result by the request id, it holds
// the intents and the results of the check.
func NewConvergence(d *Record, rep *converge.Report, now time.Time) *Record {
	return &Record{
		Kind: KindConvergence, Time: now, ID: d.ID,
		User: d.User, UID: d.UID, PID: d.PID, PPID: d.PPID, Parent: d.Parent,
		Agent: d.Agent, Tool: d.Tool, Class: d.Class, Decision: d.Decision,
		Target: d.Target, Convergence: rep,
	}
}

// SetExit records the exit code.
func (r *Record) SetExit(code int) { r.Exit = &code }

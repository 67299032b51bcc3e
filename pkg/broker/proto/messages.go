package proto

import (
	"fmt"

	"github.com/agentctl/agentctl/pkg/exitcode"
)

// Hello is the client's first frame.
type Hello struct {
	Magic string `json:"magic"` // always [Magic]
	Min   int    `json:"min"`   // lowest protocol version the client speaks
	Max   int    `json:"max"`   // highest
	// Client is the client's agentctl version, for messages only.
	Client string `json:"client,omitempty"`
}

// NewHello is this agentctl's Hello.
func NewHello(client string) *Hello {
	return &Hello{Magic: Magic, Min: MinVersion, Max: Version, Client: client}
}

// Welcome is the broker's answer to a Hello it accepts.
type Welcome struct {
	Version int    `json:"version"` // the version the rest of the conversation speaks
	Broker  string `json:"broker,omitempty"`
}

// Negotiate returns the Welcome for h from a broker speaking min to max,
// or the Error that refuses it.
func Negotiate(h *Hello, min, max int, broker string) (*Welcome, *Error) {
	return negotiate(h, Magic, min, max, broker)
}

// NegotiateApprover is [Negotiate] for the approver socket, whose
// hellos carry [ApproverMagic].
func NegotiateApprover(h *Hello, min, max int, broker string) (*Welcome, *Error) {
	return negotiate(h, ApproverMagic, min, max, broker)
}

func negotiate(h *Hello, magic string, min, max int, broker string) (*Welcome, *Error) {
	if h.Magic != magic {
		return nil, &Error{Code: CodeProtocol, Message: fmt.Sprintf("not an agentctl client: magic %q", h.Magic)}
	}
	v := max
	if h.Max < v {
		v = h.Max
	}
	if v < min || v < h.Min || h.Min > h.Max {
		return nil, &Error{
			Code:    CodeVersion,
			Message: fmt.Sprintf("the broker speaks protocol versions %d to %d, this agentctl %d to %d", min, max, h.Min, h.Max),
			Hint:    "run the broker and its clients from the same agentctl release: restart the broker (agentctl serve)",
		}
	}
	return &Welcome{Version: v, Broker: broker}, nil
}

// Request is the command a client asks the broker to run. Its standard
// input, output and error travel beside it as SCM_RIGHTS descriptors, in
// that order, in the same sendmsg as the frame's first byte.
type Request struct {
	// Argv is the client's whole argv, argv[0] included: it tells a shim
	// (kubectl …) from agentctl kubectl ….
	Argv []string `json:"argv"`
	// Cwd is the client's working directory, absolute.
	Cwd string `json:"cwd"`
	// Env is the part of the client's environment that the allow-list
	// (docs/protocol.md) lets through, KEY=VALUE; the broker drops any
	// other.
	Env []string `json:"env,omitempty"`
	// FDs is how many descriptors ride with the frame: 3, or 4 with TTY.
	FDs int `json:"fds"`
	// TTY (version 2) says a fourth descriptor rides after the standard
	// streams: the client's controlling terminal, opened as /dev/tty, on
	// which the command may ask for approval. The broker checks that it
	// is a terminal and the client's controlling terminal.
	TTY bool `json:"tty,omitempty"`
}

// Signal asks the broker to deliver a signal to the running command, as
// a terminal would deliver it to the one-shot agentctl's process group.
type Signal struct {
	Signal int `json:"signal"`
}

// Exit is the command's end: its exit code, as the one-shot agentctl
// would have exited (128+N for a command killed by signal N).
type Exit struct {
	Code int `json:"code"`
}

// Handover is a requester's connection to the inbox that the broker
// hands to the attached inbox (approver socket, broker → inbox): the
// connection itself rides as one SCM_RIGHTS descriptor, and the inbox
// speaks the inbox protocol (docs/approval.md) on it with the requester.
type Handover struct {
	// PID is the process the request is for: the client whose command a
	// worker runs, else the requester itself (a one-shot agentctl).
	PID int `json:"pid"`
	// Worker is the requester's pid (SO_PEERCRED) when it is a broker's
	// worker, else 0.
	Worker int `json:"worker,omitempty"`
}

// The error codes of an [Error].
const (
	CodeProtocol = "protocol" // a malformed, oversize or unexpected frame
	CodeVersion  = "version"  // no protocol version in common
	CodePeer     = "peer"     // the client's uid is not the broker's
	CodeRequest  = "request"  // a request the broker cannot run (bad cwd…)
	CodeInternal = "internal" // the broker failed
	CodeBusy     = "busy"     // approver socket: an inbox is attached already
)

// Error ends a conversation: what went wrong, one line, and a hint.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

func (e *Error) Error() string { return "broker: " + e.Message }

// ExitCode is the client's exit code for the error: 77 for a refused
// peer (denied), 70 for anything else (nothing ran).
func (e *Error) ExitCode() int {
	if e.Code == CodePeer {
		return exitcode.Denied
	}
	return exitcode.Internal
}

package approve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"
)

// Prompt shows s on the terminal tty and returns the human's verdict. It
// must give up (with ctx.Err()) when ctx ends. pkg/tui provides the real
// one; this package knows no terminal library.
type Prompt func(ctx context.Context, tty *os.File, s *Screen) (Verdict, error)

// TTY is the approver that asks on the controlling terminal. It opens
// /dev/tty itself, so it works while the agent owns agentctl's standard
// streams, and it never reads the agent's stdin.
type TTY struct {
	Prompt Prompt
	// Open opens the terminal; nil opens /dev/tty.
	Open func() (*os.File, error)
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Driver says which program, if any, can type into the terminal
	// while running in another terminal itself; nil looks in /proc. The
	// screen is not shown on such a terminal: the program (an agent that
	// runs commands in a pseudo-terminal of its own) could answer it.
	Driver func() (who string, pid int, driven bool)
	// Check, when set, runs before the screen is drawn; its error
	// refuses the request, with the error as the reason.
	Check func() error
}

var _ Approver = (*TTY)(nil)

// OpenTTY opens the controlling terminal for reading and writing.
func OpenTTY() (*os.File, error) { return os.OpenFile("/dev/tty", os.O_RDWR, 0) }

// Approve implements [Approver].
func (t *TTY) Approve(ctx context.Context, r *Request) (Answer, error) {
	now := t.Now
	if now == nil {
		now = time.Now
	}
	open := t.Open
	if open == nil {
		open = OpenTTY
	}
	start := now()
	f, err := open()
	if err != nil {
		return Answer{Channel: "tty", Reason: fmt.Sprintf("cannot open the terminal: %v", err)}, nil
	}
	defer f.Close()
	driver := t.Driver
	if driver == nil {
		driver = TerminalDriver
	}
	if who, pid, driven := driver(); driven {
		return Answer{Channel: "tty", Reason: fmt.Sprintf("the terminal belongs to %q (pid %d), a program running in another terminal that can type into this one; approve in `agentctl inbox` instead", who, pid)}, nil
	}
	if t.Check != nil {
		if err := t.Check(); err != nil {
			return Answer{Channel: "tty", Reason: err.Error()}, nil
		}
	}
	v, err := t.Prompt(ctx, f, NewScreen(r))
	ans := Answer{Approved: v.Approved && err == nil, Channel: "tty", Reason: v.Reason, Latency: now().Sub(start)}
	if u, uerr := user.Current(); uerr == nil {
		ans.Approver = u.Username
	}
	if err != nil {
		ans.Reason = "approval timed out"
		if !errors.Is(err, context.DeadlineExceeded) {
			ans.Reason = "approval interrupted"
		}
	}
	return ans, err
}

// SelectOptions say how to choose the approver.
type SelectOptions struct {
	// Choice is --approver / AGENTCTL_APPROVER: "", "tty", "inbox" or "none".
	Choice string
	// NonInteractive: --non-interactive, AGENTCTL_NON_INTERACTIVE, CI.
	NonInteractive bool
	// Getenv looks up the environment (XDG_RUNTIME_DIR, XDG_CONFIG_HOME, HOME).
	Getenv func(string) string
	// Status receives progress lines such as "waiting for the inbox" (stderr).
	Status io.Writer
	// Prompt draws the terminal screen.
	Prompt Prompt
	// OpenTTY opens the terminal; nil opens /dev/tty.
	OpenTTY func() (*os.File, error)
	// Driver says who drives the terminal OpenTTY opens (see
	// [TTY].Driver); nil is [TerminalDriver], which looks at this
	// process's controlling terminal.
	Driver func() (who string, pid int, driven bool)
	// Check is [TTY].Check.
	Check func() error
	// Pin holds what root's configuration fixes (approval.inboxSocket,
	// approval.inboxPublicKey): set fields replace DefaultPaths', and
	// no variable changes them.
	Pin Paths
}

// Select returns the approver, in this order: an explicit choice; none
// when non-interactive; the inbox when one is running for this user; the
// terminal when there is one; else none. None denies everything.
func Select(o SelectOptions) (Approver, error) {
	if o.NonInteractive {
		return None{Why: "no approver in non-interactive mode (--non-interactive, AGENTCTL_NON_INTERACTIVE, CI)"}, nil
	}
	open := o.OpenTTY
	if open == nil {
		open = OpenTTY
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	paths, perr := PinnedPaths(getenv, o.Pin)
	tty := &TTY{Prompt: o.Prompt, Open: open, Driver: o.Driver, Check: o.Check}
	switch o.Choice {
	case "none":
		return None{Why: "no approver: --approver none"}, nil
	case "inbox":
		if perr != nil {
			return nil, perr
		}
		return &Inbox{Paths: paths, Status: o.Status}, nil
	case "tty":
		if o.Prompt == nil {
			return nil, errors.New("approver tty: no terminal prompt wired")
		}
		return tty, nil
	case "":
	default:
		return nil, fmt.Errorf("unknown approver %q (want tty, inbox or none)", o.Choice)
	}
	if perr == nil && InboxRunning(paths) {
		return &Inbox{Paths: paths, Status: o.Status}, nil
	}
	if f, err := open(); err == nil && o.Prompt != nil {
		f.Close()
		return tty, nil
	}
	return None{Why: "no approver: no terminal and no agentctl inbox running"}, nil
}

// PinnedPaths is [DefaultPaths] with the socket and trusted key of pin,
// where set, in place of what the environment says.
func PinnedPaths(getenv func(string) string, pin Paths) (Paths, error) {
	p, err := DefaultPaths(getenv)
	if pin.Socket != "" {
		p.Socket = pin.Socket
	}
	if pin.Trusted != nil {
		p.Trusted = pin.Trusted
	}
	if err != nil && p.Socket != "" && p.Trusted != nil {
		// Nothing the requester needs comes from the environment.
		err = nil
	}
	return p, err
}

package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/agentctl/agentctl/pkg/approve"
	brokerclient "github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/pkg/credentials"
	"github.com/agentctl/agentctl/pkg/pipeline"
	"github.com/agentctl/agentctl/pkg/tui"
)

// wireApproval sets the pipeline's approver and approval timeout:
//
//   - the approver is chosen by approve.Select: --approver /
//     AGENTCTL_APPROVER, else approval.approver in config.yaml, else none
//     when non-interactive, else a running `agentctl inbox`, else the
//     terminal (/dev/tty), else none;
//   - AGENTCTL_APPROVAL_TIMEOUT (a Go duration such as 90s or 10m), else
//     approval.timeout in config.yaml, bounds how long a human may take;
//     the default is 5 minutes.
func wireApproval(f *Factory, p *pipeline.Pipeline, cfg credentials.ApprovalConfig) error {
	ap, err := selectApprover(f, cfg)
	if err != nil {
		return err
	}
	if p.ApprovalTimeout, err = approvalTimeout(f, cfg); err != nil {
		return err
	}
	p.Approver = ap
	return nil
}

// inboxKeyDir is the directory of the inbox key, "" when it has none.
// The key signs approvals: no sandboxed command may read it. (The socket
// needs no entry: the sandbox refuses Unix sockets.)
func inboxKeyDir(f *Factory) string {
	if paths, err := approve.DefaultPaths(f.Getenv); err == nil {
		return filepath.Dir(paths.Key)
	}
	return ""
}

// approvalConfig is config.yaml's approval section (zero without a
// config.yaml).
func approvalConfig(f *Factory) (credentials.ApprovalConfig, error) {
	cfg, err := loadCredentials(f)
	if err != nil || cfg == nil {
		return credentials.ApprovalConfig{}, err
	}
	return cfg.Approval, nil
}

// defaultApprovalTimeout is how long a human may take when nothing says.
const defaultApprovalTimeout = 5 * time.Minute

// approvalTimeout is AGENTCTL_APPROVAL_TIMEOUT, else approval.timeout in
// config.yaml, else defaultApprovalTimeout.
func approvalTimeout(f *Factory, cfg credentials.ApprovalConfig) (time.Duration, error) {
	if v := f.Getenv("AGENTCTL_APPROVAL_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, &ConfigError{Err: &hintError{
				msg:  fmt.Sprintf("invalid AGENTCTL_APPROVAL_TIMEOUT %q", v),
				hint: "use a positive Go duration such as 90s or 10m",
			}}
		}
		return d, nil
	}
	if d := cfg.TimeoutDuration(); d > 0 {
		return d, nil
	}
	return defaultApprovalTimeout, nil
}

// tuiOptions are the screen options the environment asks for.
func tuiOptions(f *Factory) tui.Options {
	return tui.Options{NoColor: f.Getenv("NO_COLOR") != "", Term: f.Getenv("TERM")}
}

// selectApprover picks the approver: the admin config's, else the flag
// or variable, else the user's config.yaml, else approve.Select's own
// choice. The admin config's approval.inboxSocket and
// approval.inboxPublicKey, when set, say where the inbox is and which key
// its answers must be signed with, whatever XDG_RUNTIME_DIR and
// XDG_CONFIG_HOME say.
func selectApprover(f *Factory, cfg credentials.ApprovalConfig) (approve.Approver, error) {
	choice := f.Global.Approver
	if choice == "" {
		choice = cfg.Approver
	}
	admin, err := loadAdmin(f)
	if err != nil {
		return nil, err
	}
	if a := admin.Approval.Approver; a != "" {
		choice = a // root's choice, whatever the agent's flags say
	}
	pin, err := inboxPin(f)
	if err != nil {
		return nil, err
	}
	o := approve.SelectOptions{
		Pin:            pin,
		Choice:         choice,
		NonInteractive: f.NonInteractive(),
		Getenv:         f.Getenv,
		Status:         f.IO.ErrOut,
		Prompt:         tui.Prompt(tuiOptions(f)),
	}
	if open, driver, check, ok := clientTTY(f); ok {
		o.OpenTTY, o.Driver, o.Check = open, driver, check
	}
	if f.noTTY {
		o.OpenTTY = func() (*os.File, error) {
			return nil, errors.New("agentctl mcp asks no one on the terminal (it is the MCP client's): run `agentctl inbox` in another terminal")
		}
	}
	ap, err := approve.Select(o)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	return ap, nil
}

// clientTTY is, in a broker's worker given its client's terminal (the
// broker checked it is the client's controlling terminal), how to open
// that terminal and who drives it: the worker has no controlling
// terminal of its own, so the screen goes to the client's, and the
// driven-terminal check looks at that terminal, not at the worker's
// (none).
//
// check refuses when the client is not in its terminal's foreground
// process group (approve.InForeground).
func clientTTY(f *Factory) (open func() (*os.File, error), driver func() (string, int, bool), check func() error, ok bool) {
	if f.Getenv(brokerclient.WorkerEnv) == "" {
		return nil, nil, nil, false
	}
	fd, err := strconv.Atoi(f.Getenv(brokerclient.TTYEnv))
	if err != nil || fd < 3 {
		return nil, nil, nil, false
	}
	client, err := strconv.Atoi(f.Getenv(brokerclient.ClientPIDEnv))
	if err != nil {
		return nil, nil, nil, false
	}
	open = func() (*os.File, error) {
		// A copy per approval: the approver closes what it opens.
		d, err := syscall.Dup(fd)
		if err != nil {
			return nil, fmt.Errorf("the client's terminal: %w", err)
		}
		syscall.CloseOnExec(d)
		return os.NewFile(uintptr(d), "/dev/tty"), nil
	}
	driver = func() (string, int, bool) { return approve.TerminalDriverOf(fd) }
	check = func() error { return approve.InForeground(client, fd) }
	return open, driver, check, true
}

package cli

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/agentctl/agentctl/pkg/credentials"
)

// GlobalOptions are the flags that come before the tool name:
//
//	agentctl [--output json] [--intent TEXT] [--agent NAME] [--policy FILE] [--non-interactive] kubectl ARGS…
//
// Each has an AGENTCTL_* environment variable; a flag wins over it.
type GlobalOptions struct {
	Output         string // "" (text) or "json"
	Intent         string
	Agent          string
	Policy         []string
	NonInteractive bool
	Approver       string // "", tty, inbox, none
	// ReportResult (hidden --report-result): after a command that ran,
	// one JSON line on stderr with its class, decision, rule and request
	// id, for agentctl mcp's calls through a broker.
	ReportResult bool
}

// JSON says whether machine-readable output was asked for.
func (g *GlobalOptions) JSON() bool { return g.Output == "json" }

// Factory holds what commands depend on. Fields are plain values or lazy
// funcs so that tests can replace them.
type Factory struct {
	IO *IOStreams
	// Environ is the process environment, KEY=VALUE.
	Environ []string
	// Executable is the path of this binary, used to start child
	// processes (the embedded kubectl, the sandbox).
	Executable func() (string, error)
	// Getwd returns the working directory.
	Getwd func() (string, error)
	// Global holds the global flags once parsed.
	Global GlobalOptions

	// AdminDir holds the root-owned settings (policy.yaml, config.yaml);
	// empty is /etc/agentctl. Only tests set it.
	AdminDir string

	// noTTY: this process's terminal is not agentctl's to ask a human on
	// (`agentctl mcp`: the MCP client owns it and stdio is the protocol).
	noTTY bool
	// viaBroker: this factory's tool calls must go to the broker at its
	// AGENTCTL_SOCKET (the broker's own MCP face), never one-shot.
	viaBroker bool

	creds struct { // see loadCredentials
		once sync.Once
		cfg  *credentials.Config
		err  error
	}
	admin struct { // see loadAdmin
		once sync.Once
		cfg  *adminConfig
		err  error
	}
}

// NewFactory returns the factory for a real process.
func NewFactory() *Factory {
	return &Factory{
		IO:         System(),
		Environ:    os.Environ(),
		Executable: os.Executable,
		Getwd:      os.Getwd,
	}
}

// Getenv looks a variable up in the factory's environment.
func (f *Factory) Getenv(key string) string {
	v := ""
	for _, kv := range f.Environ {
		if strings.HasPrefix(kv, key+"=") {
			v = kv[len(key)+1:]
		}
	}
	return v
}

// envBool reads a boolean environment variable the way strconv does, with
// any non-empty unparsable value counting as true (fail towards the safer
// setting for AGENTCTL_NON_INTERACTIVE and CI).
func (f *Factory) envBool(key string) bool {
	v := f.Getenv(key)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// NonInteractive says whether no human can be asked: --non-interactive,
// AGENTCTL_NON_INTERACTIVE, CI=true, or --approver none.
func (f *Factory) NonInteractive() bool {
	return f.Global.NonInteractive || f.envBool("AGENTCTL_NON_INTERACTIVE") || f.envBool("CI") || f.Global.Approver == "none"
}

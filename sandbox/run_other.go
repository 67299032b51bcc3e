//go:build !linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/agentctl/agentctl/sandbox/spawn"
)

// Outside Linux there is no sandbox: [Probe] reports Landlock and the
// namespaces unavailable, [Run] refuses a config with [Config.Required]
// with an [*UnavailableError], and runs any other config unconfined, with
// an [Enforcement] that lists everything as missing. The child protocol
// is the Linux one without the confinement: the re-executed binary reads
// its spec from fd 3 and runs the entry.

const (
	markerEnv   = spawn.MarkerEnv
	markerChild = spawn.MarkerChild
	fdSpec      = spawn.FDSpec
	killGrace   = 5 * time.Second
)

type childSpec struct {
	Entry string   `json:"entry"`
	Argv  []string `json:"argv"`
	Env   []string `json:"env"`
}

// MaybeChild must be called first thing by main; see the Linux version.
// Here a child only runs its entry.
func MaybeChild(entries map[string]func(args []string) int) (isChild bool, code int) {
	if os.Getenv(markerEnv) != markerChild {
		return false, 0
	}
	os.Unsetenv(markerEnv)
	var spec childSpec
	f := os.NewFile(fdSpec, "sandbox-spec")
	if f == nil {
		fmt.Fprintln(os.Stderr, "agentctl sandbox: child started without its spec")
		return true, 125
	}
	err := json.NewDecoder(f).Decode(&spec)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "agentctl sandbox: read config: %v\n", err)
		return true, 125
	}
	entry := entries[spec.Entry]
	if entry == nil {
		fmt.Fprintf(os.Stderr, "agentctl sandbox: no entry %q\n", spec.Entry)
		return true, 125
	}
	os.Clearenv()
	for _, kv := range spec.Env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	return true, entry(spec.Argv)
}

func probeNamespaces() error {
	return fmt.Errorf("user and network namespaces exist only on Linux, not on %s", runtime.GOOS)
}

// Run runs cfg unconfined, or refuses it when cfg.Required.
func Run(ctx context.Context, cfg Config, stdio Stdio) (int, Enforcement, error) {
	rcfg, cleanup, err := prepare(cfg)
	if err != nil {
		return 0, Enforcement{}, err
	}
	defer cleanup()
	required := rcfg.Required
	rcfg.Required = false
	rules, err := Plan(rcfg, Status{})
	if err != nil {
		return 0, Enforcement{}, err
	}
	// Plan counts the seccomp filter as enforced; it is Linux-only too.
	enf := Enforcement{Missing: rules.Enforcement.Missing, Weaker: rules.Enforcement.Weaker}
	if required {
		return 0, enf, newUnavailableError()
	}

	env := childEnv(rcfg.Env, rcfg.Scratch)
	var cmd *exec.Cmd
	var spec []byte
	if rcfg.Entry != "" {
		self, err := os.Executable()
		if err != nil {
			return 0, enf, fmt.Errorf("sandbox: %w", err)
		}
		if spec, err = json.Marshal(childSpec{Entry: rcfg.Entry, Argv: rcfg.Argv, Env: env}); err != nil {
			return 0, enf, err
		}
		cmd = exec.CommandContext(ctx, self)
		cmd.Args = []string{os.Args[0]}
		cmd.Env = []string{markerEnv + "=" + markerChild}
	} else {
		cmd = exec.CommandContext(ctx, rcfg.Argv[0], rcfg.Argv[1:]...)
		cmd.Env = env
	}
	cmd.Dir = rcfg.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = killGrace
	var specW *os.File
	if spec != nil {
		specR, w, err := os.Pipe()
		if err != nil {
			return 0, enf, err
		}
		specW = w
		defer specR.Close()
		cmd.ExtraFiles = []*os.File{specR}
	}
	if err := cmd.Start(); err != nil {
		if specW != nil {
			specW.Close()
		}
		return 0, enf, fmt.Errorf("sandbox: start: %w", err)
	}
	if specW != nil {
		_, werr := specW.Write(spec)
		specW.Close()
		if werr != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return 0, enf, fmt.Errorf("sandbox: hand the config to the child: %w", werr)
		}
	}
	werr := cmd.Wait()
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return 0, enf, fmt.Errorf("sandbox: %w", werr)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), enf, nil
	}
	return cmd.ProcessState.ExitCode(), enf, nil
}

// Child stands for a prestarted sandbox child; outside Linux nothing is
// started ahead and [Child.Run] is [Run].
type Child struct {
	stdio Stdio
	used  bool
}

// Prestart returns a Child that runs with stdio.
func Prestart(stdio Stdio) (*Child, error) { return &Child{stdio: stdio}, nil }

// Close releases the child.
func (c *Child) Close() { c.used = true }

// Run runs cfg as [Run] does. A Child runs one config only.
func (c *Child) Run(ctx context.Context, cfg Config) (int, Enforcement, error) {
	if c.used {
		return 0, Enforcement{}, errors.New("sandbox: child already used")
	}
	c.used = true
	return Run(ctx, cfg, c.stdio)
}

// Adopt exists for the Linux API's sake: package spawn starts no child
// ahead outside Linux, so there is never one to adopt. The returned Child
// refuses to run.
func Adopt(p *spawn.Process) *Child {
	p.Kill()
	p.Close()
	return &Child{used: true}
}

//go:build linux

package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/agentctl/agentctl/sandbox/spawn"
)

// The child is the re-executed binary. It finds its role in the marker
// variable (never the config, which arrives as JSON on an inherited pipe,
// out of sight of /proc/<pid>/environ and cmdline), sets up, reports on
// the status pipe, and runs the command.
const (
	markerEnv   = spawn.MarkerEnv
	markerChild = spawn.MarkerChild
	markerProbe = spawn.MarkerProbe

	fdSpec   = spawn.FDSpec   // parent → child: childSpec JSON, then EOF
	fdBroker = spawn.FDBroker // the egress broker socket
	fdStatus = spawn.FDStatus // child → parent: childStatus JSON, then close

	// ExitSetup is the child's exit code when setup failed; the reason
	// goes to the parent on the status pipe.
	exitSetup = 125
)

type childSpec struct {
	Entry string   `json:"entry,omitempty"`
	Argv  []string `json:"argv"`
	Env   []string `json:"env"`
	Dir   string   `json:"dir"`
	Rules Rules    `json:"rules"`
}

type childStatus struct {
	Error       string      `json:"error,omitempty"`
	Enforcement Enforcement `json:"enforcement"`
}

// MaybeChild must be called first thing by main (and by TestMain in tests
// that use the sandbox). When this process is a sandbox child it sets the
// sandbox up, runs the entry named in the config (or execs Argv), and
// returns isChild true with the exit code for main to exit with. Otherwise
// it returns false at once and does nothing.
func MaybeChild(entries map[string]func(args []string) int) (isChild bool, code int) {
	switch os.Getenv(markerEnv) {
	case markerProbe:
		os.NewFile(fdSpec, "sandbox-probe").WriteString("ok")
		return true, 0
	case markerChild:
		os.Unsetenv(markerEnv)
		return true, runChild(entries)
	}
	return false, 0
}

func runChild(entries map[string]func(args []string) int) int {
	status := os.NewFile(fdStatus, "sandbox-status")
	fail := func(err error) int {
		json.NewEncoder(status).Encode(childStatus{Error: err.Error()})
		status.Close()
		return exitSetup
	}
	var spec childSpec
	specFile := os.NewFile(fdSpec, "sandbox-spec")
	if err := json.NewDecoder(specFile).Decode(&spec); err != nil {
		return fail(fmt.Errorf("sandbox child: read config: %w", err))
	}
	specFile.Close()
	unix.CloseOnExec(fdBroker)
	unix.CloseOnExec(fdStatus)
	r := spec.Rules
	var entry func([]string) int
	if spec.Entry != "" {
		if entry = entries[spec.Entry]; entry == nil {
			return fail(fmt.Errorf("sandbox child: no entry %q", spec.Entry))
		}
	}

	if r.MountNS {
		if err := isolateMounts(r, r.Scratch); err != nil {
			if r.Strict {
				return fail(err)
			}
			r.Enforcement = r.Enforcement.withoutMountNS(err, r.DenyUnixSockets)
			r.Binds, r.PrivateTmp, r.Proc = nil, false, false
		}
	}
	if err := os.Chdir(spec.Dir); err != nil {
		return fail(fmt.Errorf("sandbox child: %w", err))
	}
	fw := &forwarder{}
	if r.Namespaces {
		if err := loopbackUp(); err != nil {
			return fail(err)
		}
		d, err := newDialer(os.NewFile(fdBroker, "sandbox-broker"))
		if err != nil {
			return fail(err)
		}
		fw.d = d
		if err := fw.start(r.Destinations, r.Proxy); err != nil {
			return fail(err)
		}
	} else {
		unix.Close(fdBroker)
	}
	if r.Namespaces {
		if err := dropCapabilities(); err != nil {
			return fail(err)
		}
	}
	env := spec.Env
	if fw.proxyAddr != "" {
		env = withProxy(env, "http://"+fw.proxyAddr)
	}
	if err := applyLandlock(r, fw.ports); err != nil {
		return fail(err)
	}
	if r.DenyUnixSockets {
		if err := denyUnixSockets(); err != nil {
			return fail(err)
		}
	}
	if r.DenyEscapes {
		if err := denyEscapes(); err != nil {
			return fail(err)
		}
	}
	if err := json.NewEncoder(status).Encode(childStatus{Enforcement: r.Enforcement}); err != nil {
		return exitSetup
	}
	status.Close()

	if entry != nil {
		os.Clearenv()
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			os.Setenv(k, v)
		}
		return entry(spec.Argv)
	}
	return supervise(spec, env)
}

// supervise runs Argv as the child's own child, forwarding signals and
// passing its exit code through, while the forwarders keep running.
//
// Below Landlock ABI 8 each thread got its own Landlock domain, and a
// domain may signal only itself and its descendants (ABI 6 scoping), so
// the command is started and signalled from one locked thread.
func supervise(spec childSpec, env []string) int {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := dropThreadCapabilities(); err != nil {
		fmt.Fprintf(os.Stderr, "agentctl sandbox: %v\n", err)
		return 127
	}
	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	cmd.Env = env
	cmd.Dir = spec.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Its own process group, so that what it leaves running in the
	// background is killed with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "agentctl sandbox: %v\n", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	pgid := cmd.Process.Pid
	for {
		select {
		case s := <-sigs:
			unix.Kill(-pgid, s.(syscall.Signal))
		case err := <-done:
			unix.Kill(-pgid, unix.SIGKILL)
			return exitCode(cmd.ProcessState, err)
		}
	}
}

func exitCode(ps *os.ProcessState, err error) int {
	if ps == nil {
		return 127
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 127
	}
	return ps.ExitCode()
}

// withProxy points the proxy variables at the in-namespace CONNECT proxy
// and empties NO_PROXY, so every non-loopback connection goes through it.
func withProxy(env []string, url string) []string {
	drop := map[string]bool{"HTTPS_PROXY": true, "HTTP_PROXY": true, "NO_PROXY": true, "ALL_PROXY": true}
	out := make([]string, 0, len(env)+8)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[strings.ToUpper(k)] {
			out = append(out, kv)
		}
	}
	return append(out,
		"HTTPS_PROXY="+url, "https_proxy="+url, "HTTP_PROXY="+url, "http_proxy="+url,
		"NO_PROXY=", "no_proxy=")
}

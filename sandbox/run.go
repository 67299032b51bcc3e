//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// killGrace is how long the child has to exit after SIGTERM when ctx ends.
const killGrace = 5 * time.Second

// Run runs cfg in a sandbox child and returns the command's exit code and
// what was enforced. err is non-nil only when the sandbox itself failed
// (bad config, required feature missing, setup error): then the command
// did not run. A *NotEnforceableError says what was missing.
func Run(ctx context.Context, cfg Config, stdio Stdio) (int, Enforcement, error) {
	if cfg.Scratch == "" {
		dir, err := os.MkdirTemp("", "agentctl-sandbox-")
		if err != nil {
			return 0, Enforcement{}, fmt.Errorf("sandbox scratch: %w", err)
		}
		defer os.RemoveAll(dir)
		cfg.Scratch = dir
	}
	rcfg, err := resolvePaths(cfg)
	if err != nil {
		return 0, Enforcement{}, err
	}
	if rcfg.Dir == "" {
		rcfg.Dir = rcfg.Scratch
	}
	st := probeLandlock()
	st.UserNS, st.NetNS = true, true // found out by starting the child
	rules, err := Plan(rcfg, st)
	if err != nil {
		return 0, Enforcement{}, err
	}
	code, enf, err := start(ctx, rcfg, rules, stdio)
	var nsErr *namespaceError
	if errors.As(err, &nsErr) {
		st.UserNS, st.NetNS = false, false
		st.NamespaceError = nsErr.Error()
		rules, perr := Plan(rcfg, st)
		if perr != nil {
			var ne *NotEnforceableError
			if errors.As(perr, &ne) {
				ne.Missing[0] += " (" + nsErr.Error() + ")"
			}
			return 0, rules.Enforcement, perr
		}
		return start(ctx, rcfg, rules, stdio)
	}
	return code, enf, err
}

// namespaceError is a failure to create the namespaces.
type namespaceError struct{ err error }

func (e *namespaceError) Error() string { return "cannot create user namespace: " + e.err.Error() }
func (e *namespaceError) Unwrap() error { return e.err }

func start(ctx context.Context, cfg Config, r Rules, stdio Stdio) (int, Enforcement, error) {
	specR, specW, err := os.Pipe()
	if err != nil {
		return 0, Enforcement{}, err
	}
	defer specW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		specR.Close()
		return 0, Enforcement{}, err
	}
	defer statusR.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		specR.Close()
		statusW.Close()
		return 0, Enforcement{}, fmt.Errorf("sandbox broker socket: %w", err)
	}
	brokerParent, brokerChild := os.NewFile(uintptr(fds[0]), "broker"), os.NewFile(uintptr(fds[1]), "broker-child")

	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{os.Args[0]}
	cmd.Env = []string{markerEnv + "=" + markerChild}
	cmd.Dir = cfg.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	cmd.ExtraFiles = []*os.File{specR, brokerChild, statusW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if r.Namespaces {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
		cmd.SysProcAttr.GidMappingsEnableSetgroups = false
		cmd.SysProcAttr.AmbientCaps = []uintptr{unix.CAP_NET_ADMIN}
	}
	err = cmd.Start()
	specR.Close()
	brokerChild.Close()
	statusW.Close()
	if err != nil {
		brokerParent.Close()
		if r.Namespaces {
			return 0, Enforcement{}, &namespaceError{err}
		}
		return 0, Enforcement{}, fmt.Errorf("sandbox: start child: %w", err)
	}

	bctx, stopBroker := context.WithCancel(ctx)
	defer stopBroker()
	b, err := newBroker(brokerParent, r.Destinations)
	brokerParent.Close()
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, Enforcement{}, err
	}
	go b.serve(bctx)

	spec := childSpec{Entry: cfg.Entry, Argv: cfg.Argv, Env: childEnv(cfg.Env, cfg.Scratch), Dir: cfg.Dir, Rules: r}
	json.NewEncoder(specW).Encode(spec)
	specW.Close()

	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-time.After(killGrace):
				cmd.Process.Kill()
			case <-done:
			}
		case <-done:
		}
	}()

	var st childStatus
	derr := json.NewDecoder(statusR).Decode(&st)
	if derr != nil || st.Error != "" {
		cmd.Process.Kill()
		cmd.Wait()
		if derr == io.EOF {
			return 0, Enforcement{}, fmt.Errorf("sandbox: child exited during setup (does main call sandbox.MaybeChild first?)")
		}
		if derr != nil {
			return 0, Enforcement{}, fmt.Errorf("sandbox: child status: %w", derr)
		}
		return 0, r.Enforcement, errors.New(st.Error)
	}
	werr := cmd.Wait()
	return exitCode(cmd.ProcessState, werr), st.Enforcement, nil
}

// probeNamespaces starts the re-executed binary in new user and network
// namespaces and waits for it to exit.
func probeNamespaces() error {
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = []string{os.Args[0]}
	cmd.Env = []string{markerEnv + "=" + markerProbe}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}},
		AmbientCaps: []uintptr{unix.CAP_NET_ADMIN},
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cannot create user and network namespaces: %w", err)
	}
	return nil
}

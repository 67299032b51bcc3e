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
	c, err := Prestart(stdio)
	if err != nil {
		return 0, Enforcement{}, err
	}
	defer c.Close()
	return c.Run(ctx, cfg)
}

// Child is a sandbox child started before its config is known, so that
// starting the binary overlaps with agentctl's own work (parsing,
// classification, policy). It waits, unconfined but in its namespaces
// and doing nothing, until [Child.Run] hands it a config, or dies with
// [Child.Close].
type Child struct {
	cmd                          *exec.Cmd
	nsErr                        error // why the namespaces could not be created
	specW, statusR, brokerParent *os.File
	used                         bool
}

// Prestart starts a sandbox child with stdio as the command's streams. It
// creates the user and network namespaces, or, when they cannot be
// created, starts the child without them and lets [Child.Run] decide
// (fail when required).
func Prestart(stdio Stdio) (*Child, error) {
	c, err := prestart(stdio, true)
	var nsErr *namespaceError
	if errors.As(err, &nsErr) {
		c, err = prestart(stdio, false)
		if c != nil {
			c.nsErr = nsErr
		}
	}
	return c, err
}

// namespaceError is a failure to create the namespaces.
type namespaceError struct{ err error }

func (e *namespaceError) Error() string { return "cannot create user namespace: " + e.err.Error() }
func (e *namespaceError) Unwrap() error { return e.err }

func prestart(stdio Stdio, namespaces bool) (*Child, error) {
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		specR.Close()
		specW.Close()
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		for _, f := range []*os.File{specR, specW, statusR, statusW} {
			f.Close()
		}
		return nil, fmt.Errorf("sandbox broker socket: %w", err)
	}
	brokerParent, brokerChild := os.NewFile(uintptr(fds[0]), "broker"), os.NewFile(uintptr(fds[1]), "broker-child")

	cmd := exec.Command("/proc/self/exe")
	cmd.Args = childArgs()
	// The locale is set from the start: an entry's messages (kubectl's
	// translations) are chosen while the binary initialises, before the
	// child reads its environment from the spec.
	cmd.Env = append([]string{markerEnv + "=" + markerChild}, localeEnv()...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio.In, stdio.Out, stdio.Err
	cmd.ExtraFiles = []*os.File{specR, brokerChild, statusW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if namespaces {
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
		specW.Close()
		statusR.Close()
		brokerParent.Close()
		if namespaces {
			return nil, &namespaceError{err}
		}
		return nil, fmt.Errorf("sandbox: start child: %w", err)
	}
	return &Child{cmd: cmd, specW: specW, statusR: statusR, brokerParent: brokerParent}, nil
}

// Close kills the child if it has not run a config, and releases it. It
// may be called more than once.
func (c *Child) Close() {
	if !c.used {
		c.used = true
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
	c.specW.Close()
	c.statusR.Close()
	c.brokerParent.Close()
}

// Run plans cfg for what the child's namespaces and the kernel's Landlock
// allow, hands it to the child and waits for the command; see [Run]. A
// Child runs one config only.
func (c *Child) Run(ctx context.Context, cfg Config) (int, Enforcement, error) {
	if c.used {
		return 0, Enforcement{}, errors.New("sandbox: child already used")
	}
	defer c.Close()
	rcfg, cleanup, err := prepare(cfg)
	if err != nil {
		return 0, Enforcement{}, err
	}
	defer cleanup()
	st := probeLandlock()
	st.UserNS, st.NetNS = c.nsErr == nil, c.nsErr == nil
	r, err := Plan(rcfg, st)
	if err != nil {
		var ne *NotEnforceableError
		if errors.As(err, &ne) && c.nsErr != nil {
			ne.Missing = append(ne.Missing, c.nsErr.Error())
		}
		return 0, r.Enforcement, err
	}
	c.used = true
	cmd := c.cmd

	bctx, stopBroker := context.WithCancel(ctx)
	defer stopBroker()
	b, err := newBroker(c.brokerParent, r.Destinations)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, Enforcement{}, err
	}
	go b.serve(bctx)

	spec := childSpec{Entry: rcfg.Entry, Argv: rcfg.Argv, Env: childEnv(rcfg.Env, rcfg.Scratch), Dir: rcfg.Dir, Rules: r}
	json.NewEncoder(c.specW).Encode(spec)
	c.specW.Close()

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

	var st2 childStatus
	derr := json.NewDecoder(c.statusR).Decode(&st2)
	if derr != nil || st2.Error != "" {
		cmd.Process.Kill()
		cmd.Wait()
		if derr == io.EOF {
			return 0, Enforcement{}, fmt.Errorf("sandbox: child exited during setup (does main call sandbox.MaybeChild first?)")
		}
		if derr != nil {
			return 0, Enforcement{}, fmt.Errorf("sandbox: child status: %w", derr)
		}
		return 0, r.Enforcement, errors.New(st2.Error)
	}
	werr := cmd.Wait()
	return exitCode(cmd.ProcessState, werr), st2.Enforcement, nil
}

// childArgs is the re-executed binary's argv. MaybeChild never looks at
// it; "-test.run=^$" makes a test binary whose TestMain forgot to call
// MaybeChild run no test instead of recursing into its own tests.
func childArgs() []string { return []string{os.Args[0], "-test.run=^$"} }

// probeNamespaces starts the re-executed binary in new user and network
// namespaces and waits for it to report on fd 3 that it ran.
func probeNamespaces() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = childArgs()
	cmd.Env = []string{markerEnv + "=" + markerProbe}
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}},
		AmbientCaps: []uintptr{unix.CAP_NET_ADMIN},
		Pdeathsig:   syscall.SIGKILL,
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("cannot create user and network namespaces: %w", err)
	}
	got, _ := io.ReadAll(r)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("sandbox probe child: %w", err)
	}
	if string(got) != "ok" {
		return errors.New("sandbox probe child did not answer: main must call sandbox.MaybeChild first")
	}
	return nil
}

// localeEnv returns this process's locale variables.
func localeEnv() []string {
	var out []string
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

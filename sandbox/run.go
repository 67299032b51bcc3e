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
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/agentctl/agentctl/sandbox/spawn"
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
	p     *spawn.Process
	nsErr error // why the namespaces could not be created
	// copies are the goroutines copying the child's non-file output
	// streams; wait for them after the process has exited.
	copies sync.WaitGroup
	used   bool
}

// Prestart starts a sandbox child with stdio as the command's streams. It
// creates the user and network namespaces, or, when they cannot be
// created, starts the child without them and lets [Child.Run] decide
// (fail when required).
func Prestart(stdio Stdio) (*Child, error) { return prestart(stdio, true) }

// Adopt takes over a child that package spawn started earlier (during
// initialisation), with its streams already connected.
func Adopt(p *spawn.Process) *Child { return &Child{p: p, nsErr: p.NamespaceErr} }

func prestart(stdio Stdio, namespaces bool) (*Child, error) {
	c := &Child{}
	files, feed, copies, made, err := streams(stdio)
	if err != nil {
		return nil, err
	}
	p, err := spawn.Start(files[0], files[1], files[2], namespaces)
	var nsErr *spawn.NamespaceError
	if errors.As(err, &nsErr) {
		p, err = spawn.Start(files[0], files[1], files[2], false)
		c.nsErr = nsErr
	}
	for i, f := range files {
		if f != fileOf(stdio, i) {
			f.Close() // the child's end of a pipe, or /dev/null
		}
	}
	if err != nil {
		for _, f := range made {
			f.Close()
		}
		return nil, fmt.Errorf("sandbox: start child: %w", err)
	}
	if feed != nil {
		// Not waited for: it may block reading stdio.In after the child
		// has gone; it ends at the next read or write.
		go feed()
	}
	for _, copy := range copies {
		c.copies.Add(1)
		go func() { defer c.copies.Done(); copy() }()
	}
	c.p = p
	return c, nil
}

// streams returns the files the child gets as stdin, stdout and stderr:
// stdio's own files, /dev/null for nil, or pipes, as os/exec does. Once
// the child has started, feed copies stdio.In into its pipe and copies
// copy its output pipes out; made are the parent's ends of the pipes.
func streams(stdio Stdio) (files [3]*os.File, feed func(), copies []func(), made []*os.File, err error) {
	for i := range files {
		if f := fileOf(stdio, i); f != nil {
			files[i] = f
			continue
		}
		var r, w *os.File
		if (i == 0 && stdio.In == nil) || (i == 1 && stdio.Out == nil) || (i == 2 && stdio.Err == nil) {
			r, err = os.OpenFile(os.DevNull, os.O_RDWR, 0)
			w = r
		} else {
			r, w, err = os.Pipe()
		}
		if err != nil {
			for j, f := range files[:i] {
				if f != fileOf(stdio, j) {
					f.Close()
				}
			}
			for _, f := range made {
				f.Close()
			}
			return files, nil, nil, nil, err
		}
		switch i {
		case 0:
			files[i] = r
			if w != r {
				made = append(made, w)
				feed = func() { io.Copy(w, stdio.In); w.Close() }
			}
		default:
			dst := stdio.Out
			if i == 2 {
				dst = stdio.Err
			}
			files[i] = w
			if w != r {
				made = append(made, r)
				copies = append(copies, func() { io.Copy(dst, r); r.Close() })
			}
		}
	}
	return files, feed, copies, made, nil
}

// fileOf returns stream i of stdio when it is an *os.File.
func fileOf(stdio Stdio, i int) *os.File {
	var v any
	switch i {
	case 0:
		v = stdio.In
	case 1:
		v = stdio.Out
	default:
		v = stdio.Err
	}
	f, _ := v.(*os.File)
	return f
}

// Close kills the child if it has not run a config, and releases it. It
// may be called more than once.
func (c *Child) Close() {
	if !c.used {
		c.used = true
		c.p.Kill()
		c.p.Wait()
		c.copies.Wait()
	}
	c.p.Close()
}

// wait waits for the child and for the copies of its streams.
func (c *Child) wait() (*os.ProcessState, error) {
	ps, err := c.p.Wait()
	c.copies.Wait()
	return ps, err
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
	if c.nsErr == nil && !c.p.PIDNS {
		r.Enforcement.Weaker = append(r.Enforcement.Weaker, "pid namespace (what the command starts may outlive a killed agentctl)")
	}
	c.used = true
	proc := c.p

	bctx, stopBroker := context.WithCancel(ctx)
	defer stopBroker()
	b, err := newBroker(proc.Broker, r.Destinations)
	if err != nil {
		proc.Kill()
		c.wait()
		return 0, Enforcement{}, err
	}
	go b.serve(bctx)

	spec := childSpec{Entry: rcfg.Entry, Argv: rcfg.Argv, Env: childEnv(rcfg.Env, rcfg.Scratch), Dir: rcfg.Dir, Rules: r}
	json.NewEncoder(proc.Spec).Encode(spec)
	proc.Spec.Close()

	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			proc.Signal(syscall.SIGTERM)
			select {
			case <-time.After(killGrace):
				proc.Kill()
			case <-done:
			}
		case <-done:
		}
	}()

	var st2 childStatus
	derr := json.NewDecoder(proc.Status).Decode(&st2)
	if derr != nil || st2.Error != "" {
		proc.Kill()
		c.wait()
		if derr == io.EOF {
			return 0, Enforcement{}, fmt.Errorf("sandbox: child exited during setup (does main call sandbox.MaybeChild first?)")
		}
		if derr != nil {
			return 0, Enforcement{}, fmt.Errorf("sandbox: child status: %w", derr)
		}
		return 0, r.Enforcement, errors.New(st2.Error)
	}
	ps, werr := c.wait()
	stopBroker()
	enf := st2.Enforcement
	enf.Refused = b.refusals()
	return exitCode(ps, werr), enf, nil
}

// probeNamespaces starts the re-executed binary in new user, network and
// mount namespaces and waits for it to report on fd 3 that it ran.
func probeNamespaces() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = spawn.Args()
	cmd.Env = []string{markerEnv + "=" + markerProbe}
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}},
		AmbientCaps: []uintptr{unix.CAP_NET_ADMIN},
		Pdeathsig:   syscall.SIGKILL,
	}
	err = spawn.OnLastingThread(cmd.Start)
	w.Close()
	if err != nil {
		return fmt.Errorf("cannot create user, network and mount namespaces: %w", err)
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

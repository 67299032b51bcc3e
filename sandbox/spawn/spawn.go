// Package spawn starts the process a sandbox runs in: agentctl's own
// binary, re-executed in new user and network namespaces, waiting for its
// configuration. It imports nothing but the standard library's os,
// syscall, runtime and sync so that agentctl can start the child while
// the rest of the binary is still initialising (package boot), and the
// sandbox package adopts it later.
package spawn

import (
	"errors"
	"os"
	"sync"
)

// The child finds its role in this variable, never in its arguments.
const (
	MarkerEnv   = "AGENTCTL_SANDBOX"
	MarkerChild = "child"
	MarkerProbe = "probe"
)

// The child's inherited descriptors after stdin, stdout and stderr.
const (
	FDSpec   = 3 // parent → child: the configuration, then EOF
	FDBroker = 4 // the egress broker socket
	FDStatus = 5 // child → parent: setup status, then close
)

// Process is a started sandbox child and the parent's ends of its
// descriptors.
type Process struct {
	*os.Process
	// NamespaceErr says why the child runs without its namespaces; nil
	// when it has them.
	NamespaceErr error
	// PIDNS: the child is init of its own PID namespace; what it leaves
	// running dies with it.
	PIDNS                bool
	Spec, Status, Broker *os.File
}

// Close closes the parent's ends. It does not stop the process.
func (p *Process) Close() {
	p.Spec.Close()
	p.Status.Close()
	p.Broker.Close()
}

// NamespaceError is a failure to create the namespaces.
type NamespaceError struct{ Err error }

func (e *NamespaceError) Error() string { return "cannot create user namespace: " + e.Err.Error() }
func (e *NamespaceError) Unwrap() error { return e.Err }

// Piped is a started child whose standard streams are pipes to this
// process, with the parent's ends.
type Piped struct {
	*Process
	Stdin, Stdout, Stderr *os.File
}

// StartPiped starts a sandbox child whose standard streams are pipes to
// this process: in new namespaces, or, when they cannot be created,
// without them (Process.NamespaceErr says why; the sandbox then decides
// whether the command may run so).
func StartPiped() (*Piped, error) {
	var files []*os.File
	pipe := func() (r, w *os.File) {
		r, w, err := os.Pipe()
		if err == nil {
			files = append(files, r, w)
		}
		return r, w
	}
	inR, inW := pipe()
	outR, outW := pipe()
	errR, errW := pipe()
	if len(files) != 6 {
		closeAll(files...)
		return nil, errors.New("sandbox child: cannot create its pipes")
	}
	p, err := Start(inR, outW, errW, true)
	var nsErr *NamespaceError
	if errors.As(err, &nsErr) {
		if p, err = Start(inR, outW, errW, false); err == nil {
			p.NamespaceErr = nsErr
		}
	}
	closeAll(inR, outW, errW) // the child has its own copies
	if err != nil {
		closeAll(inW, outR, errR)
		return nil, err
	}
	return &Piped{Process: p, Stdin: inW, Stdout: outR, Stderr: errR}, nil
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// early is global mutable state, against the house rule, for a reason:
// it is set by an init function (package boot, via early), before main
// has anything to hand it to, and taken once by the executor.
var (
	mu    sync.Mutex
	early *Piped
)

// SetEarly records the child started during initialisation.
func SetEarly(e *Piped) {
	mu.Lock()
	early = e
	mu.Unlock()
}

// TakeEarly returns the child started during initialisation, once; nil
// when there is none or it was taken.
func TakeEarly() *Piped {
	mu.Lock()
	defer mu.Unlock()
	e := early
	early = nil
	return e
}

// Args is the child's argv. The child never looks at it; "-test.run=^$"
// makes a test binary whose TestMain forgot to call sandbox.MaybeChild
// run no test instead of recursing into its own tests.
func Args() []string { return []string{os.Args[0], "-test.run=^$"} }

// Env is the child's environment until it reads its configuration: the
// marker; the locale, which an entry's messages (kubectl's translations)
// are chosen by while the binary initialises; and no garbage collection
// while it initialises (package boot restores the defaults shortly
// after; the command itself gets the environment of its configuration).
func Env() []string {
	env := []string{MarkerEnv + "=" + MarkerChild, "GOGC=off", "GOMEMLIMIT=256MiB"}
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

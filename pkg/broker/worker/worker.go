// Package worker is the worker side of the broker's warm pool: an
// agentctl the broker started before any request came, which has paid
// Go's start-up and the whole binary's package initialisation, and waits
// in [Become] (the first thing main does) for the one request it will
// serve. It then takes the request's standard streams, working directory,
// argv and environment, and goes on as the one-shot agentctl, which
// runs, audits and exits; a worker serves exactly one request.
//
// # What initialisation may read
//
// A warm worker's packages initialised with the broker's environment,
// not the request's. That is sound only for what no package reads while
// initialising: the broker hands a request to a warm worker only when the
// variables package initialisation does read are the same in the
// request's environment as in the worker's ([InitKey]): the locale
// (LANG, LC_*: kubectl's message catalogue is chosen at its first i18n.T,
// during initialisation; go-runewidth reads LC_ALL, LC_CTYPE and LANG in
// its init) and TZ (time.Local is loaded once, on first use). Any other
// request gets a fresh worker. Everything else the request's environment
// may change (TERM, NO_COLOR, COLUMNS, CI, AGENTCTL_*, TF_VAR_*: see
// docs/protocol.md) is read when the command runs, after [Become]:
// KUBECONFIG and kubectl's flags (klog's included) are read at command
// time, and agentctl's own configuration is read by package cli's
// factory, which main builds after [Become].
//
// Docs: docs/protocol.md, "Warm workers".
package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/agentctl/agentctl/pkg/boot"
	"github.com/agentctl/agentctl/pkg/boot/gc"
	"github.com/agentctl/agentctl/sandbox/spawn"
)

// WarmEnv marks a warm worker; its value is the descriptor its spec
// arrives on.
const WarmEnv = "AGENTCTL_BROKER_WARM"

// SpecFD is the descriptor a warm worker reads its spec from: a unix
// stream socket whose other end is the broker's.
const SpecFD = 3

// MaxSpec bounds a spec: a request frame's limit and room for the
// broker's environment.
const MaxSpec = 2 << 20

// Spec is the request a warm worker serves. Its standard input, output
// and error ride with the first bytes (SCM_RIGHTS), in that order.
type Spec struct {
	Argv []string `json:"argv"`
	Cwd  string   `json:"cwd"`
	Env  []string `json:"env"`
}

// InitKey is what of env package initialisation reads (see the package
// documentation): a warm worker serves a request only when the two keys
// are equal.
func InitKey(env []string) string {
	var keep []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if k == "LANG" || k == "TZ" || strings.HasPrefix(k, "LC_") {
			keep = append(keep, kv)
		}
	}
	sort.Strings(keep)
	return strings.Join(keep, "\x00")
}

// Worker is what a warm worker keeps alive while it runs its request: the
// standard streams it started with, whose *os.File values other packages
// may still hold. Losing them to the garbage collector would close the
// descriptors 0, 1 and 2, which are the request's by then.
type Worker struct {
	old [3]*os.File
}

// Become waits, in a warm worker, for the request and makes this process
// the request's agentctl: its streams on 0, 1 and 2, its working
// directory, its environment and its argv. Outside a warm worker it
// returns (nil, 0, false) at once. exit says that this process must
// exit with code instead: the broker went without handing a request (0),
// or the request cannot be taken (70, said on the request's stderr).
func Become() (w *Worker, code int, exit bool) {
	if os.Getenv(WarmEnv) == "" {
		return nil, 0, false
	}
	// Not inherited by what this worker starts.
	syscall.CloseOnExec(SpecFD)
	// The sandbox child for a likely read, as package boot starts it for
	// a one-shot agentctl: its start does not depend on the request.
	var child *spawn.Piped
	if !boot.IsChild() {
		child, _ = spawn.StartPiped()
	}
	spec, fds, err := receive(os.NewFile(SpecFD, "worker-spec"))
	if err != nil {
		if child != nil {
			child.Close()
		}
		closeFDs(fds)
		if errors.Is(err, errNoRequest) {
			return nil, 0, true
		}
		fmt.Fprintf(os.Stderr, "agentctl: warm worker: %s\n", err)
		return nil, 70, true
	}
	w = &Worker{old: [3]*os.File{os.Stdin, os.Stdout, os.Stderr}}
	for i, fd := range fds {
		if err := dup(fd, i); err != nil {
			return w, 70, true
		}
		syscall.Close(fd)
	}
	// Fresh files for the new descriptors: a stream the client handed in
	// non-blocking mode is then read through the poller, as a one-shot
	// agentctl started on it would read it.
	os.Stdin = os.NewFile(0, "/dev/stdin")
	os.Stdout = os.NewFile(1, "/dev/stdout")
	os.Stderr = os.NewFile(2, "/dev/stderr")
	os.Clearenv()
	for _, kv := range spec.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			os.Setenv(k, v)
		}
	}
	os.Args = spec.Argv
	holdGC()
	if err := os.Chdir(spec.Cwd); err != nil {
		if child != nil {
			child.Close()
		}
		fmt.Fprintf(os.Stderr, "agentctl: cannot start the command: %s\n", err)
		return w, 70, true
	}
	if child != nil {
		if tool, args, ok := boot.ToolArgs(os.Args); ok && boot.Prestartable(tool, args) {
			spawn.SetEarly(child)
		} else {
			child.Close()
		}
	}
	return w, 0, false
}

var errNoRequest = errors.New("no request")

// receive reads the spec until the broker closes its end, with the three
// descriptors that rode with it.
func receive(f *os.File) (*Spec, []int, error) {
	defer f.Close()
	fd := int(f.Fd())
	var buf []byte
	var fds []int
	p := make([]byte, 64<<10)
	oob := make([]byte, syscall.CmsgSpace(4*4))
	for {
		n, oobn, _, _, err := syscall.Recvmsg(fd, p, oob, recvFlags)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fds, fmt.Errorf("cannot read the request: %w", err)
		}
		if oobn > 0 {
			msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				if got, err := syscall.ParseUnixRights(&m); err == nil {
					for _, fd := range got {
						syscall.CloseOnExec(fd) // where recvFlags cannot say so
					}
					fds = append(fds, got...)
				}
			}
		}
		if n == 0 {
			break
		}
		buf = append(buf, p[:n]...)
		if len(buf) > MaxSpec {
			return nil, fds, fmt.Errorf("request of more than %d bytes", MaxSpec)
		}
	}
	if len(buf) == 0 && len(fds) == 0 {
		return nil, nil, errNoRequest
	}
	var spec Spec
	if err := json.Unmarshal(buf, &spec); err != nil {
		return nil, fds, fmt.Errorf("cannot decode the request: %w", err)
	}
	switch {
	case len(fds) != 3:
		return nil, fds, fmt.Errorf("request with %d descriptors, want 3", len(fds))
	case len(spec.Argv) == 0:
		return nil, fds, errors.New("request without argv")
	}
	return &spec, fds, nil
}

// holdGC gives the request's start what package gc gives a process's:
// no collection for [gc.Delay] (the one-shot start's window has long
// passed in a worker that waited), unless GOGC or GOMEMLIMIT is set.
func holdGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(gc.Limit)
	time.AfterFunc(gc.Delay, func() {
		debug.SetGCPercent(100)
		debug.SetMemoryLimit(math.MaxInt64)
	})
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

package broker

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/agentctl/agentctl/pkg/broker/worker"
	"github.com/agentctl/agentctl/pkg/childproc"
)

// pool keeps prestarted workers (package worker): agentctl processes
// that have paid Go's start-up and package initialisation and wait for
// the one request each serves. The pool refills in the background.
type pool struct {
	exe   string
	base  []string // the broker's environment, as for WorkerEnv
	slots chan struct{}
	idle  chan *warm

	mu      sync.Mutex
	initEnv []string // the locale and TZ new workers start with
	key     string   // worker.InitKey of initEnv
}

// warm is one idle worker.
type warm struct {
	cmd  *exec.Cmd
	spec *os.File // the broker's end of the worker's spec socket
	key  string
}

func newPool(exe string, base []string, size int) *pool {
	p := &pool{exe: exe, base: base, slots: make(chan struct{}, size), idle: make(chan *warm, size)}
	for i := 0; i < size; i++ {
		p.slots <- struct{}{}
	}
	p.initEnv = initVars(WorkerEnv(base, nil))
	p.key = worker.InitKey(p.initEnv)
	return p
}

// initVars is what of env worker.InitKey looks at.
func initVars(env []string) []string {
	var out []string
	for _, kv := range env {
		if worker.InitKey([]string{kv}) != "" {
			out = append(out, kv)
		}
	}
	return out
}

// fill starts a worker for every free slot until ctx ends, and then
// kills the idle ones.
func (p *pool) fill(ctx context.Context) {
	defer func() {
		for {
			select {
			case w := <-p.idle:
				w.kill()
			default:
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.slots:
		}
		w, err := p.start()
		if err != nil {
			// The cold path serves meanwhile; try again later.
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			p.slots <- struct{}{}
			continue
		}
		p.idle <- w
	}
}

// start starts one warm worker: the broker's environment, with the
// locale and TZ of the pool's key, and the spec socket on descriptor 3.
func (p *pool) start() (*warm, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|sockCloexec, 0)
	if err != nil {
		return nil, err
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "spec"), os.NewFile(uintptr(fds[1]), "worker-spec")
	defer theirs.Close()
	p.mu.Lock()
	initEnv, key := p.initEnv, p.key
	p.mu.Unlock()
	env := WorkerEnv(withInitVars(p.base, initEnv), nil)
	env = append(env, worker.WarmEnv+"=3")
	cmd := &exec.Cmd{
		Path:       p.exe,
		Args:       []string{"agentctl"},
		Env:        env,
		Stderr:     os.Stderr, // until it has a request: what it says goes to the broker's log
		ExtraFiles: []*os.File{theirs},
		Dir:        "/",
		// A session of its own, as every worker (see run).
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := childproc.Start(cmd); err != nil {
		ours.Close()
		return nil, err
	}
	return &warm{cmd: cmd, spec: ours, key: key}, nil
}

// withInitVars is env with its locale and TZ replaced by vars.
func withInitVars(env, vars []string) []string {
	var out []string
	for _, kv := range env {
		if worker.InitKey([]string{kv}) == "" {
			out = append(out, kv)
		}
	}
	return append(out, vars...)
}

// take hands spec and stdio to an idle worker whose initialisation read
// what spec's environment says, and returns it running; nil when there is
// none (the caller starts a fresh worker). A request whose locale or TZ
// is not the pool's makes the pool's next workers start with them.
func (p *pool) take(spec *worker.Spec, stdio []*os.File) *exec.Cmd {
	key := worker.InitKey(spec.Env)
	p.mu.Lock()
	if key != p.key {
		p.initEnv, p.key = initVars(spec.Env), key
	}
	p.mu.Unlock()
	for {
		var w *warm
		select {
		case w = <-p.idle:
			p.slots <- struct{}{}
		default:
			return nil
		}
		if w.key != key {
			w.kill()
			continue
		}
		if err := w.hand(spec, stdio); err != nil {
			w.kill() // it died idle: another, or a fresh one
			continue
		}
		return w.cmd
	}
}

func (w *warm) hand(spec *worker.Spec, stdio []*os.File) error {
	defer w.spec.Close()
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	fd := int(w.spec.Fd())
	rights := syscall.UnixRights(int(stdio[0].Fd()), int(stdio[1].Fd()), int(stdio[2].Fd()))
	n, err := syscall.SendmsgN(fd, b, rights, nil, msgNoSignal)
	for err == syscall.EINTR {
		n, err = syscall.SendmsgN(fd, b, rights, nil, msgNoSignal)
	}
	if err != nil {
		return err
	}
	// The descriptors rode with the first bytes; once they are the
	// worker's, the request is, whatever happens to the rest.
	_, err = w.spec.Write(b[n:])
	return err
}

func (w *warm) kill() {
	w.spec.Close()
	w.cmd.Process.Kill()
	w.cmd.Wait()
}

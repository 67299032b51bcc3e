package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// osProc is one process, told apart from a later one with the same pid by
// its start time.
type osProc struct {
	pid   int
	start string // field 22 of /proc/PID/stat
	comm  string
}

// statOf reads pid's parent, state and start time from /proc/PID/stat.
func statOf(pid int) (ppid int, state byte, start, comm string, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, "", "", false
	}
	open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || close < open {
		return 0, 0, "", "", false
	}
	f := strings.Fields(string(b[close+1:]))
	if len(f) < 20 {
		return 0, 0, "", "", false
	}
	ppid, _ = strconv.Atoi(f[1])
	return ppid, f[0][0], f[19], string(b[open+1 : close]), true
}

// descendants lists every living process below pid.
func descendants(pid int) []osProc {
	ents, _ := os.ReadDir("/proc")
	children := map[int][]osProc{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, state, start, comm, ok := statOf(p); ok && state != 'Z' {
			children[ppid] = append(children[ppid], osProc{pid: p, start: start, comm: comm})
		}
	}
	var out []osProc
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c.pid)
		}
	}
	walk(pid)
	return out
}

// alive reports whether p still runs (a zombie has died).
func (p osProc) alive() bool {
	_, state, start, _, ok := statOf(p.pid)
	return ok && start == p.start && state != 'Z'
}

// orphanDeadline bounds how long the kernel may take to deliver the
// parent-death signals; dying is immediate, this only guards the poll.
const orphanDeadline = 20 * time.Second

// survivors polls until every process of ps has died or orphanDeadline
// has passed, and returns those still running. The test kills them when
// it ends, so that a failing run leaves nothing behind.
func survivors(t *testing.T, ps []osProc) []osProc {
	t.Helper()
	var left []osProc
	for end := time.Now().Add(orphanDeadline); ; time.Sleep(50 * time.Millisecond) {
		left = left[:0]
		for _, p := range ps {
			if p.alive() {
				left = append(left, p)
			}
		}
		if len(left) == 0 || time.Now().After(end) {
			break
		}
	}
	t.Cleanup(func() {
		for _, p := range left {
			if p.alive() {
				syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
	})
	return left
}

// running is agentctl started in the background as the agent.
type running struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer
	errb   bytes.Buffer
	lines  chan string // stdout, line by line
	waited chan struct{}
}

// startAgentctl starts agentctl with args as e's user and returns at once.
func (e *env) startAgentctl(args ...string) *running {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	e.t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, agentctlBin(e.t), args...)
	cmd.Env, cmd.Dir = e.vars, e.dir
	if e.agent != nil && e.agent.Cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: e.agent.Cred}
	}
	r := &running{cmd: cmd, lines: make(chan string, 1024), waited: make(chan struct{})}
	// A pipe of its own rather than StdoutPipe: Wait then waits for
	// agentctl only, not for whatever else holds the pipe (an orphan).
	pr, pw, err := os.Pipe()
	if err != nil {
		e.t.Fatal(err)
	}
	cmd.Stdout = pw
	cmd.Stderr = &syncWriter{mu: &r.mu, w: &r.errb}
	cmd.WaitDelay = time.Second // an orphan may hold stderr open
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		e.t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(io.TeeReader(pr, &syncWriter{mu: &r.mu, w: &r.out}))
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	go func() {
		cmd.Wait()
		close(r.waited)
	}()
	e.t.Cleanup(func() {
		cmd.Process.Kill()
		<-r.waited
		pr.Close()
	})
	return r
}

// waitLine waits for a line of stdout containing want; it fails t when
// stdout ends first.
func (r *running) waitLine(t *testing.T, want string) {
	t.Helper()
	for l := range r.lines {
		if strings.Contains(l, want) {
			return
		}
	}
	t.Fatalf("agentctl ended without printing %q\n%s", want, r.output())
}

func (r *running) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return "stdout: " + r.out.String() + "\nstderr: " + r.errb.String()
}

// kill SIGKILLs agentctl and waits until it is gone.
func (r *running) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.waited
}

type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

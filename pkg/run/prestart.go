package run

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/agentctl/agentctl/sandbox"
	"github.com/agentctl/agentctl/sandbox/spawn"
)

// prestarted is a sandbox child started before the pipeline decided, with
// pipes for its standard streams: its start (a second start of this
// binary, the namespaces) overlaps classification, policy and the audit
// write instead of following them.
type prestarted struct {
	child           *sandbox.Child
	inW, outR, errR *os.File
}

// Prestart starts a sandbox child for the command about to be assessed,
// or adopts the one package boot started while agentctl initialised.
// [LocalExecutor.Execute] runs a sandboxed kubectl in it; whatever does not
// use it must call [LocalExecutor.ReleasePrestart]. A failure to prestart
// is not an error: Execute then starts a child as usual.
func (e *LocalExecutor) Prestart() {
	if early := spawn.TakeEarly(); early != nil {
		e.pre = &prestarted{child: sandbox.Adopt(early.Process), inW: early.Stdin, outR: early.Stdout, errR: early.Stderr}
		return
	}
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
		return
	}
	child, err := sandbox.Prestart(sandbox.Stdio{In: inR, Out: outW, Err: errW})
	closeAll(inR, outW, errW) // the child holds its own copies
	if err != nil {
		closeAll(inW, outR, errR)
		return
	}
	e.pre = &prestarted{child: child, inW: inW, outR: outR, errR: errR}
}

// ReleasePrestart stops a prestarted child that was not used.
func (e *LocalExecutor) ReleasePrestart() {
	if p := e.pre; p != nil {
		e.pre = nil
		p.child.Close()
		closeAll(p.inW, p.outR, p.errR)
	}
}

// runSandbox runs cfg in the prestarted sandbox child when there is one,
// else in a new one.
func (e *LocalExecutor) runSandbox(ctx context.Context, cfg sandbox.Config, stdin io.Reader, stdout, stderr io.Writer) (int, sandbox.Enforcement, error) {
	if pre := e.pre; pre != nil {
		e.pre = nil
		return pre.run(ctx, cfg, stdin, stdout, stderr)
	}
	return sandbox.Run(ctx, cfg, sandbox.Stdio{In: stdin, Out: stdout, Err: stderr})
}

// run runs cfg in the prestarted child, copying its streams.
func (p *prestarted) run(ctx context.Context, cfg sandbox.Config, stdin io.Reader, stdout, stderr io.Writer) (int, sandbox.Enforcement, error) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); io.Copy(stdout, p.outR) }()
	go func() { defer wg.Done(); io.Copy(stderr, p.errR) }()
	go func() {
		if stdin != nil {
			io.Copy(p.inW, stdin)
		}
		p.inW.Close()
	}()
	code, enf, err := p.child.Run(ctx, cfg)
	wg.Wait() // the child has exited: its ends are closed
	closeAll(p.outR, p.errR)
	return code, enf, err
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		if f != nil {
			f.Close()
		}
	}
}

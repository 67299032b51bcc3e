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
	c := spawn.TakeEarly()
	if c == nil {
		var err error
		if c, err = spawn.StartPiped(); err != nil {
			return
		}
	}
	e.pre = &prestarted{child: sandbox.Adopt(c.Process), inW: c.Stdin, outR: c.Stdout, errR: c.Stderr}
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

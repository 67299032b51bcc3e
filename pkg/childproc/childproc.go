// Package childproc starts agentctl's child processes so that they die
// with agentctl, however it dies: on Linux each child gets SIGKILL as
// its parent-death signal, and is forked from a thread that lives as
// long as the process (see [spawn.OnLastingThread] for why the thread
// matters). An approved kubectl or terraform therefore does not run on
// after a SIGKILL of agentctl with its result never recorded.
//
// What a child starts itself is its own: terraform's provider plugins
// are not agentctl's children (docs/hardening.md).
package childproc

import (
	"bytes"
	"os/exec"

	"github.com/agentctl/agentctl/sandbox/spawn"
)

// Start starts cmd tied to this process's life.
func Start(cmd *exec.Cmd) error {
	tie(cmd)
	return spawn.OnLastingThread(cmd.Start)
}

// Run starts cmd tied to this process's life and waits for it.
func Run(cmd *exec.Cmd) error {
	if err := Start(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// Output is [Run] returning standard output, as [exec.Cmd.Output].
func Output(cmd *exec.Cmd) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout = &out
	err := Run(cmd)
	return out.Bytes(), err
}

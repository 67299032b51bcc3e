// Package childproc starts agentctl's child processes so that they die
// with agentctl, however it dies: on Linux each child gets SIGKILL as
// its parent-death signal, and is forked from a thread that lives as
// long as the process (see [spawn.OnLastingThread] for why the thread
// matters). An approved kubectl or terraform therefore does not run on
// after a SIGKILL of agentctl with its result never recorded.
//
// A child that starts children of its own (terraform its provider
// plugins, kubectl a credential plugin) is started with [StartContained]:
// as the init of a PID namespace, so that everything it started dies
// with it.
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

// StartContained starts cmd tied to this process's life, as the init of
// a PID namespace of its own where the kernel allows one (see
// docs/hardening.md): when cmd dies, with this process, so does every
// process it started. It reports whether the namespace was made; without
// it, cmd's own children can outlive this process.
func StartContained(cmd *exec.Cmd) (contained bool, err error) {
	return startContained(cmd)
}

// RunContained is [StartContained] and waits for cmd.
func RunContained(cmd *exec.Cmd) error {
	if _, err := StartContained(cmd); err != nil {
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

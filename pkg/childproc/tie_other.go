//go:build !linux

package childproc

import "os/exec"

// tie does nothing: only Linux has parent-death signals, so elsewhere a
// child can outlive agentctl.
func tie(*exec.Cmd) {}

// startContained is a plain start: there are no PID namespaces.
func startContained(cmd *exec.Cmd) (bool, error) { return false, cmd.Start() }

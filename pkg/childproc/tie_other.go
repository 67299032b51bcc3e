//go:build !linux

package childproc

import "os/exec"

// tie does nothing: only Linux has parent-death signals, so elsewhere a
// child can outlive agentctl.
func tie(*exec.Cmd) {}

//go:build linux

package childproc

import (
	"os/exec"
	"syscall"
)

// tie makes the kernel kill cmd's process when its creating thread
// (a lasting one, see Start) and so this process dies.
func tie(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

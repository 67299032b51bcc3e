//go:build linux

package childproc

import (
	"errors"
	"os"
	"os/exec"
	"syscall"

	"github.com/agentctl/agentctl/sandbox/spawn"
)

// tie makes the kernel kill cmd's process when its creating thread
// (a lasting one, see Start) and so this process dies.
func tie(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// startContained starts cmd as the init of a PID namespace of its own
// (inside a user namespace that maps this user to itself, when this
// process is not root): when it dies, with this process, the kernel
// kills whatever it started too. Where the kernel refuses the namespace
// (user namespaces switched off, a container's seccomp profile), cmd
// starts without it and contained is false.
func startContained(cmd *exec.Cmd) (contained bool, err error) {
	tie(cmd)
	sys := cmd.SysProcAttr
	flags, uids, gids := sys.Cloneflags, sys.UidMappings, sys.GidMappings
	sys.Cloneflags |= syscall.CLONE_NEWPID
	if uid := os.Getuid(); uid != 0 {
		gid := os.Getgid()
		sys.Cloneflags |= syscall.CLONE_NEWUSER
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		sys.GidMappingsEnableSetgroups = false
	}
	err = spawn.OnLastingThread(cmd.Start)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EUSERS) {
		return false, err
	}
	sys.Cloneflags, sys.UidMappings, sys.GidMappings = flags, uids, gids
	return false, spawn.OnLastingThread(cmd.Start)
}

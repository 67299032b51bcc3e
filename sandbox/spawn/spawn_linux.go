//go:build linux

package spawn

import (
	"os"
	"syscall"
)

// Start starts a sandbox child with the given standard streams (which it
// does not close). With namespaces, the child is in new user, network
// and mount namespaces (and, where the kernel allows, a PID namespace
// of which it is init), mapped to the caller's uid and gid, with
// CAP_NET_ADMIN and CAP_SYS_ADMIN there to bring its loopback up and
// build its root; failing to create them is a
// *NamespaceError. The child dies with this process (see
// [OnLastingThread]).
func Start(stdin, stdout, stderr *os.File, namespaces bool) (*Process, error) {
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		closeAll(specR, specW)
		return nil, err
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		closeAll(specR, specW, statusR, statusW)
		return nil, os.NewSyscallError("socketpair", err)
	}
	broker, brokerChild := os.NewFile(uintptr(fds[0]), "broker"), os.NewFile(uintptr(fds[1]), "broker-child")

	sys := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if namespaces {
		sys.Cloneflags = syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET | syscall.CLONE_NEWNS
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}}
		sys.GidMappingsEnableSetgroups = false
		sys.AmbientCaps = []uintptr{capNetAdmin, capSysAdmin}
	}
	var proc *os.Process
	start := func() (err error) {
		proc, err = os.StartProcess("/proc/self/exe", Args(), &os.ProcAttr{
			Env:   Env(),
			Files: []*os.File{stdin, stdout, stderr, specR, brokerChild, statusW},
			Sys:   sys,
		})
		return err
	}
	pidNS := false
	if namespaces && pidNamespace {
		// Best effort, and first: a PID namespace whose init is the
		// child, so that when the child dies (with this process) the
		// kernel kills every process it left, its command's own
		// children (terraform's provider plugins) included.
		sys.Cloneflags |= syscall.CLONE_NEWPID
		if pidNS = OnLastingThread(start) == nil; !pidNS {
			sys.Cloneflags &^= syscall.CLONE_NEWPID
		}
	}
	err = nil
	if !pidNS {
		err = OnLastingThread(start)
	}
	closeAll(specR, brokerChild, statusW)
	if err != nil {
		closeAll(specW, statusR, broker)
		if namespaces {
			return nil, &NamespaceError{err}
		}
		return nil, err
	}
	return &Process{Process: proc, PIDNS: pidNS, Spec: specW, Status: statusR, Broker: broker}, nil
}

// capNetAdmin and capSysAdmin are CAP_NET_ADMIN and CAP_SYS_ADMIN
// (linux/capability.h): the child brings lo up and builds its root with
// them, then drops every capability before it runs the command.
const (
	capNetAdmin = 12
	capSysAdmin = 21
)

//go:build linux

package sandbox

import (
	"golang.org/x/sys/unix"
)

// escapeSyscalls are what [Config.DenyEscapes] refuses with EPERM: reading
// or steering other processes (ptrace, process_vm_*, pidfd_getfd,
// process_madvise), the kernel's programmable and global interfaces (bpf,
// perf_event_open, userfaultfd, keyrings, modules, kexec, swap, reboot,
// acct), file handles (open_by_handle_at), and the mount API and new
// namespaces (a user namespace of its own would give the command
// capabilities there). The child's own setup is done by then; nothing
// the command needs is among them.
var escapeSyscalls = []uint32{
	unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV,
	unix.SYS_PIDFD_GETFD, unix.SYS_PROCESS_MADVISE,
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD,
	unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_REBOOT, unix.SYS_ACCT,
	unix.SYS_OPEN_BY_HANDLE_AT,
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT,
	unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_FSOPEN, unix.SYS_FSCONFIG,
	unix.SYS_FSMOUNT, unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR,
	unix.SYS_UNSHARE, unix.SYS_SETNS,
}

// cloneNSFlags are the clone flags that make namespaces; clone with any
// of them is refused. clone3, whose flags are behind a pointer the filter
// cannot read, gets ENOSYS, and the C library falls back to clone.
const cloneNSFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP

// escapeFilter is the BPF program of denyEscapes.
func escapeFilter(arch uint32) []unix.SockFilter {
	const (
		ld   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
	)
	deny := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM))
	nosys := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS))
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	prog := []unix.SockFilter{
		{Code: ld, K: offArch},
		{Code: jeq, K: arch, Jt: 1, Jf: 0},
		{Code: ret, K: deny}, // a foreign arch (i386 on amd64)
		{Code: ld, K: offNr},
		{Code: jge, K: x32Bit, Jt: 0, Jf: 1},
		{Code: ret, K: deny}, // x32 syscalls
	}
	for _, nr := range escapeSyscalls {
		prog = append(prog, unix.SockFilter{Code: jeq, K: nr, Jt: 0, Jf: 1}, unix.SockFilter{Code: ret, K: deny})
	}
	prog = append(prog,
		unix.SockFilter{Code: jeq, K: unix.SYS_CLONE3, Jt: 0, Jf: 1},
		unix.SockFilter{Code: ret, K: nosys},
		unix.SockFilter{Code: jeq, K: unix.SYS_CLONE, Jt: 0, Jf: 3},
		unix.SockFilter{Code: ld, K: offArg0},
		unix.SockFilter{Code: jset, K: cloneNSFlags, Jt: 0, Jf: 1},
		unix.SockFilter{Code: ret, K: deny},
		unix.SockFilter{Code: ret, K: allow},
	)
	return prog
}

// denyEscapes installs the escape filter on every thread of the process,
// with no_new_privs (which a seccomp filter needs without CAP_SYS_ADMIN;
// set-user-ID programs then gain nothing). What the command starts
// inherits both.
func denyEscapes() error {
	return installFilter("seccomp escape filter", escapeFilter)
}

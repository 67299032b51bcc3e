//go:build linux

package sandbox

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Landlock controls connecting to pathname Unix sockets only from ABI 9.
// Below that, unless the config allows Unix sockets (terraform's provider
// plugins talk over them), a seccomp filter makes socket(AF_UNIX) and
// socketpair(AF_UNIX) fail with EACCES, so no daemon socket outside (the
// Docker socket, an SSH agent, the session bus) can be reached. io_uring,
// which can create sockets without the socket syscall, is refused too.
// Sockets created before the filter (the broker's) keep working.

// seccompArch is the audit arch of this build; other arches are refused.
func seccompArch() (uint32, bool) {
	switch runtime.GOARCH {
	case "amd64":
		return unix.AUDIT_ARCH_X86_64, true
	case "arm64":
		return unix.AUDIT_ARCH_AARCH64, true
	}
	return 0, false
}

const (
	offNr   = 0  // offsetof(struct seccomp_data, nr)
	offArch = 4  // offsetof(struct seccomp_data, arch)
	offArg0 = 16 // offsetof(struct seccomp_data, args[0]), low 32 bits on little-endian
	x32Bit  = 0x40000000
)

// denyUnixSockets installs the filter on every thread of the process,
// setting no_new_privs on the calling thread first (TSYNC spreads it).
func denyUnixSockets() error {
	return installFilter("seccomp filter", unixSocketFilter)
}

// unixSocketFilter refuses AF_UNIX sockets, io_uring and foreign-arch
// and x32 syscalls.
func unixSocketFilter(arch uint32) []unix.SockFilter {
	const (
		ld  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		ret = unix.BPF_RET | unix.BPF_K
	)
	deny := uint32(unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES))
	allow := uint32(unix.SECCOMP_RET_ALLOW)
	prog := []unix.SockFilter{
		/* 0 */ {Code: ld, K: offArch},
		/* 1 */ {Code: jeq, K: arch, Jt: 1, Jf: 0},
		/* 2 */ {Code: ret, K: deny}, // foreign arch (e.g. i386 socketcall)
		/* 3 */ {Code: ld, K: offNr},
		/* 4 */ {Code: jge, K: x32Bit, Jt: 0, Jf: 1},
		/* 5 */ {Code: ret, K: deny}, // x32 syscalls
		/* 6 */ {Code: jeq, K: unix.SYS_IO_URING_SETUP, Jt: 0, Jf: 1},
		/* 7 */ {Code: ret, K: deny},
		/* 8 */ {Code: jeq, K: unix.SYS_SOCKET, Jt: 1, Jf: 0},
		/* 9 */ {Code: jeq, K: unix.SYS_SOCKETPAIR, Jt: 0, Jf: 3},
		/* 10 */ {Code: ld, K: offArg0},
		/* 11 */ {Code: jeq, K: unix.AF_UNIX, Jt: 0, Jf: 1},
		/* 12 */ {Code: ret, K: deny},
		/* 13 */ {Code: ret, K: allow},
	}
	return prog
}

// installFilter sets no_new_privs on the calling thread and installs the
// filter build makes for this architecture on every thread of the
// process (TSYNC spreads both); what names the filter in errors.
func installFilter(what string, build func(arch uint32) []unix.SockFilter) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("sandbox: no_new_privs: %w", err)
	}
	arch, ok := seccompArch()
	if !ok {
		return fmt.Errorf("sandbox: no seccomp filter for %s", runtime.GOARCH)
	}
	prog := build(arch)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r1, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return fmt.Errorf("sandbox: %s: %w", what, errno)
	}
	if r1 != 0 {
		return fmt.Errorf("sandbox: %s: thread %d could not be synchronised", what, r1)
	}
	return nil
}

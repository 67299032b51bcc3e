//go:build linux

package worker

import "syscall"

// recvFlags marks the descriptors a request brings close-on-exec as they
// arrive.
const recvFlags = syscall.MSG_CMSG_CLOEXEC

// dup makes newfd a copy of oldfd, not close-on-exec (Linux on arm64 has
// no dup2).
func dup(oldfd, newfd int) error { return syscall.Dup3(oldfd, newfd, 0) }

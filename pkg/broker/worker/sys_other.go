//go:build !linux

package worker

import "syscall"

// recvFlags is none: receive marks the descriptors close-on-exec itself.
const recvFlags = 0

// dup makes newfd a copy of oldfd, not close-on-exec.
func dup(oldfd, newfd int) error { return syscall.Dup2(oldfd, newfd) }

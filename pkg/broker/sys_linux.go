//go:build linux

package broker

import "syscall"

const (
	sockCloexec = syscall.SOCK_CLOEXEC // the spec socket is not inherited
	msgNoSignal = syscall.MSG_NOSIGNAL // a worker gone idle is an error, not SIGPIPE
)

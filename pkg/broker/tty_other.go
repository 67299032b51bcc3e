//go:build !linux

package broker

import "errors"

// checkTTY is Linux-only: elsewhere no terminal is accepted.
func checkTTY(fd, pid int) error {
	return errors.New("a client's terminal is only checked on linux")
}

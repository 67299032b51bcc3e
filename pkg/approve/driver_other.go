//go:build !linux

package approve

import "errors"

// TerminalDriver is Linux-only: elsewhere no terminal is taken to be
// driven by a program.
func TerminalDriver() (who string, pid int, driven bool) { return "", 0, false }

// TerminalDriverOf is [TerminalDriver] for the terminal on descriptor fd.
func TerminalDriverOf(fd int) (who string, pid int, driven bool) { return "", 0, false }

// InForeground is Linux-only: elsewhere it refuses.
func InForeground(pid, fd int) error { return errors.New("only checked on linux") }

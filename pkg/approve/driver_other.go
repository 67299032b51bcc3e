//go:build !linux

package approve

// terminalDriver is Linux-only: elsewhere no terminal is taken to be
// driven by a program.
func terminalDriver() (who string, pid int, driven bool) { return "", 0, false }

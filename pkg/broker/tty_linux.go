package broker

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// checkTTY checks that fd, which a client passed as its terminal, is a
// terminal and is the controlling terminal of the client's process pid
// (SO_PEERCRED's): the device the terminal driver names for fd
// (TIOCGDEV, which sees through /dev/tty) is the tty_nr of
// /proc/PID/stat. A client could otherwise hand over any terminal it
// can open, one it drives among them; whether a program drives the
// client's own terminal the worker checks when it asks
// (approve.TerminalDriverOf).
func checkTTY(fd, pid int) error {
	dev, err := unix.IoctlGetUint32(fd, unix.TIOCGDEV)
	if err != nil {
		return fmt.Errorf("the terminal passed is not a terminal: %w", err)
	}
	ctty, err := controllingTTY(pid)
	if err != nil {
		return err
	}
	if ctty == 0 || uint64(dev) != ctty {
		return fmt.Errorf("the terminal passed (device %#x) is not the client's controlling terminal (pid %d, device %#x)", dev, pid, ctty)
	}
	return nil
}

// controllingTTY is the tty_nr of process pid: its controlling
// terminal's device, 0 for none.
func controllingTTY(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("cannot read the client's terminal: %w", err)
	}
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[end+1:])) // state ppid pgrp session tty_nr …
	if len(f) < 5 {
		return 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[4], 10, 32)
}

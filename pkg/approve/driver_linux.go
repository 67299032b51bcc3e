package approve

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// relays are programs that pass a terminal on to another one they run
// (sudo and su with use_pty, script): the terminal's driver is whatever
// drives theirs. A relay that is not itself in a terminal is driven by a
// program, not by a human.
var relays = map[string]bool{"sudo": true, "su": true, "doas": true, "runuser": true, "script": true, "login": true}

// TerminalDriver says which program, if any, can type into this process's
// controlling terminal while itself running in another terminal: an agent
// that runs commands in a pseudo-terminal of its own (Codex's PTY exec,
// aider's pexpect) and lets its model write to it. A terminal held by a
// program that is in no terminal itself (a terminal emulator, sshd, the
// tmux server) is taken to be a human's. Relays are looked through.
//
// This is a guard against the plainest self-approval, not a boundary: a
// program of the agent's user can always detach itself first (see
// docs/approval.md).
func TerminalDriver() (who string, pid int, driven bool) {
	return driverOf("/proc", os.Getpid())
}

// TerminalDriverOf is [TerminalDriver] for the terminal on descriptor fd, whoever's
// controlling terminal it is: a broker's worker asks on the terminal its
// client passed, which is not the worker's own. A descriptor that is not
// a terminal counts as driven (by nobody known): the screen is not shown.
func TerminalDriverOf(fd int) (who string, pid int, driven bool) {
	dev, err := unix.IoctlGetUint32(fd, unix.TIOCGDEV)
	if err != nil {
		return "an unknown program", 0, true
	}
	return driverOfTTY("/proc", uint64(dev))
}

// InForeground checks that process pid has the terminal on descriptor
// fd as its controlling terminal and is in that terminal's foreground
// process group: where a one-shot agentctl in a background job would be
// stopped (SIGTTIN) before it read a key, a broker's worker, which is in
// no job of that terminal, must not read the keys typed for the shell.
func InForeground(pid, fd int) error {
	dev, err := unix.IoctlGetUint32(fd, unix.TIOCGDEV)
	if err != nil {
		return fmt.Errorf("not a terminal: %w", err)
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return fmt.Errorf("the client (pid %d) is gone: %w", pid, err)
	}
	end := bytes.LastIndexByte(b, ')')
	if end < 0 {
		return fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[end+1:])) // state ppid pgrp session tty_nr tpgid …
	if len(f) < 6 {
		return fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	switch {
	case f[4] != strconv.FormatUint(uint64(dev), 10):
		return fmt.Errorf("the terminal is no longer the controlling terminal of the client (pid %d)", pid)
	case f[2] != f[5]:
		return fmt.Errorf("the client (pid %d) is in a background job of its terminal; bring it to the foreground (fg) or approve in `agentctl inbox`", pid)
	}
	return nil
}

func driverOf(proc string, self int) (string, int, bool) {
	_, tty, err := procStat(proc, self)
	if err != nil || tty == 0 {
		return "", 0, false
	}
	return driverOfTTY(proc, tty)
}

// driverOfTTY is the driver of the terminal whose device (tty_nr's
// encoding) is tty.
func driverOfTTY(proc string, tty uint64) (string, int, bool) {
	for range 8 { // relays of relays, bounded
		index, ok := ptsIndex(tty)
		if !ok {
			return "", 0, false // a console or serial line
		}
		holder, found := ptyHolder(proc, index)
		if !found {
			return "", 0, false // held by another user's process (sshd), or gone
		}
		comm, htty, err := procStat(proc, holder)
		if err != nil {
			return "", 0, false
		}
		switch {
		case relays[comm] && htty != 0:
			tty = htty // look through it
		case relays[comm] || htty != 0:
			return comm, holder, true
		default:
			return "", 0, false
		}
	}
	return "", 0, false
}

// procStat returns the command name and controlling terminal (tty_nr) of
// process pid.
func procStat(proc string, pid int) (comm string, tty uint64, err error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", 0, err
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0, fmt.Errorf("malformed %s/%d/stat", proc, pid)
	}
	f := strings.Fields(string(b[end+1:])) // state ppid pgrp session tty_nr …
	if len(f) < 5 {
		return "", 0, fmt.Errorf("malformed %s/%d/stat", proc, pid)
	}
	tty, err = strconv.ParseUint(f[4], 10, 32)
	return string(b[open+1 : end]), tty, err
}

// ptsIndex returns N of /dev/pts/N for a tty_nr, whose encoding is the
// kernel's new_encode_dev.
func ptsIndex(tty uint64) (int, bool) {
	major := (tty >> 8) & 0xfff
	minor := (tty & 0xff) | ((tty >> 12) & 0xfff00)
	if major < 136 || major > 143 { // UNIX98_PTY_SLAVE_MAJOR and its range
		return 0, false
	}
	return int((major-136)<<8 | minor), true
}

// ptyHolder returns a process holding the master side of /dev/pts/index
// open, as its fdinfo's tty-index says.
func ptyHolder(proc string, index int) (int, bool) {
	entries, err := os.ReadDir(proc)
	if err != nil {
		return 0, false
	}
	want := "tty-index:\t" + strconv.Itoa(index) + "\n"
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(filepath.Join(proc, e.Name(), "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(proc, e.Name(), "fd", fd.Name()))
			if err != nil || (link != "/dev/ptmx" && link != "/dev/pts/ptmx") {
				continue
			}
			info, err := os.ReadFile(filepath.Join(proc, e.Name(), "fdinfo", fd.Name()))
			if err == nil && strings.Contains(string(info)+"\n", want) {
				return pid, true
			}
		}
	}
	return 0, false
}

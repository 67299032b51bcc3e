package approve

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fakeProc is a /proc with processes whose stat and pseudo-terminal
// masters the test sets.
type fakeProc struct {
	t    *testing.T
	root string
}

// pts returns the tty_nr of /dev/pts/n.
func pts(n int) uint64 { return 136<<8 | uint64(n&0xff) | uint64(n&^0xff)<<12 }

func (p fakeProc) proc(pid int, comm string, tty uint64, masters ...int) {
	dir := filepath.Join(p.root, fmt.Sprint(pid))
	for _, d := range []string{"fd", "fdinfo"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			p.t.Fatal(err)
		}
	}
	stat := fmt.Sprintf("%d (%s) S 1 %d %d %d -1 4194560 0 0 0 0\n", pid, comm, pid, pid, tty)
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		p.t.Fatal(err)
	}
	for i, m := range masters {
		fd := fmt.Sprint(10 + i)
		if err := os.Symlink("/dev/ptmx", filepath.Join(dir, "fd", fd)); err != nil {
			p.t.Fatal(err)
		}
		info := fmt.Sprintf("pos:\t0\nflags:\t02\nmnt_id:\t24\nino:\t91\ntty-index:\t%d\n", m)
		if err := os.WriteFile(filepath.Join(dir, "fdinfo", fd), []byte(info), 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}

func TestTerminalDriver(t *testing.T) {
	const self = 100
	for _, tc := range []struct {
		name   string
		procs  func(p fakeProc)
		who    string
		driven bool
	}{
		{"no terminal", func(p fakeProc) {
			p.proc(self, "agentctl", 0)
		}, "", false},
		{"a terminal emulator's", func(p fakeProc) {
			p.proc(self, "agentctl", pts(3))
			p.proc(10, "gnome-terminal-", 0, 3)
		}, "", false},
		{"an agent's pseudo-terminal inside the human's terminal", func(p fakeProc) {
			p.proc(self, "agentctl", pts(7))
			p.proc(20, "codex", pts(3), 7)
			p.proc(10, "gnome-terminal-", 0, 3)
		}, "codex", true},
		{"sudo with use_pty in the human's terminal is looked through", func(p fakeProc) {
			p.proc(self, "agentctl", pts(300))
			p.proc(30, "sudo", pts(3), 300)
			p.proc(10, "tmux: server", 0, 3)
		}, "", false},
		{"script inside an agent's pseudo-terminal is looked through", func(p fakeProc) {
			p.proc(self, "agentctl", pts(8))
			p.proc(31, "script", pts(7), 8)
			p.proc(20, "python3", pts(3), 7)
			p.proc(10, "sshd", 0, 3)
		}, "python3", true},
		{"a relay in no terminal is driven by a program", func(p fakeProc) {
			p.proc(self, "agentctl", pts(8))
			p.proc(31, "script", 0, 8)
		}, "script", true},
		{"a holder this user cannot see", func(p fakeProc) {
			p.proc(self, "agentctl", pts(9))
		}, "", false},
		{"a console", func(p fakeProc) {
			p.proc(self, "agentctl", 4<<8|1) // /dev/tty1
		}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := fakeProc{t: t, root: t.TempDir()}
			tc.procs(p)
			who, _, driven := driverOf(p.root, self)
			if who != tc.who || driven != tc.driven {
				t.Errorf("driverOf = %q, %v; want %q, %v", who, driven, tc.who, tc.driven)
			}
		})
	}
}

// TestTerminalDriverOfANonTerminal: a descriptor that is not a terminal
// (a pipe passed where a terminal was promised) counts as driven, so no
// screen is drawn on it.
func TestTerminalDriverOfANonTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, _, driven := TerminalDriverOf(int(r.Fd())); !driven {
		t.Error("a pipe is taken for a human's terminal")
	}
}

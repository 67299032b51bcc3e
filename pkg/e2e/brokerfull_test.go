package e2e_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestBrokerAuditLogDiskFull fills the file system under the broker's
// audit log while the broker runs (a 64 KiB tmpfs in a mount namespace of
// the broker's own, so nothing outside the test sees it): a command whose
// decision record cannot be written does not run, its client gets the
// audit error with a hint that names the broker's log, the broker keeps
// serving, and once there is room again commands run and the log
// verifies.
func TestBrokerAuditLogDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs in a mount namespace needs root")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare(1)")
	}
	e := newEnv(t)
	dir := t.TempDir()
	logDir := filepath.Join(dir, "full")
	if err := os.Mkdir(logDir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "run", "broker.sock")
	logPath := filepath.Join(logDir, "audit.jsonl")
	e.vars = append(e.vars, "AGENTCTL_AUDIT_LOG="+logPath)
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size=64k tmpfs "$1" && exec "$2" serve --foreground --socket "$3"`, "sh", logDir, agentctlBin(t), sock)
	cmd.Env = e.vars
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	r := bufio.NewReader(stderr)
	if line, err := r.ReadString('\n'); !strings.Contains(line, "broker serving at "+sock) {
		t.Skipf("no broker on a tmpfs (mount namespaces refused?): %q, %v", line, err)
	}
	go io.Copy(io.Discard, r)
	b := &brokerProc{cmd: cmd, sock: sock, pid: cmd.Process.Pid}
	// The broker's view of its log directory: the tmpfs.
	full := filepath.Join("/proc", strconv.Itoa(b.pid), "root", logDir)
	via := e.via(b)
	if res := via.run(agentctlBin(t), "kubectl", "version", "--client"); res.code != 0 {
		t.Fatalf("before the disk is full: exit %d: %s", res.code, res.stderr)
	}
	fillDisk(t, filepath.Join(full, "fill"))
	// The log's last block has room for a few more records: run until
	// one does not fit.
	refused := false
	for i := 0; i < 30 && !refused; i++ {
		res := via.run(agentctlBin(t), "kubectl", "version", "--client")
		switch {
		case res.code == 0 && strings.Contains(res.stdout, "Client Version"):
		case res.code == 74 && strings.Contains(res.stderr, "command ran but its result could not be audited"):
			// The decision fitted and the result did not: the command's
			// output is shown and the failure named; the next command,
			// whose decision cannot be written, must not run.
			if !strings.Contains(res.stdout, "Client Version") {
				t.Errorf("a command that ran lost its output: %q", res.stdout)
			}
		case res.code == 74:
			refused = true
			if res.stdout != "" {
				t.Errorf("the command ran although its decision was not recorded: %q", res.stdout)
			}
			for _, want := range []string{"command not run: cannot write the audit record", "no space left on device", "hint: ", "the log is the broker's"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
				}
			}
		default:
			t.Fatalf("on a full disk: exit %d\nstdout: %q\nstderr: %q", res.code, res.stdout, res.stderr)
		}
	}
	if !refused {
		t.Fatal("no command was refused on a full disk")
	}
	if err := syscall.Kill(b.pid, 0); err != nil {
		t.Fatalf("the broker is gone: %v", err)
	}
	if err := os.Remove(filepath.Join(full, "fill")); err != nil {
		t.Fatal(err)
	}
	if res := via.run(agentctlBin(t), "kubectl", "version", "--client"); res.code != 0 || !strings.Contains(res.stdout, "Client Version") {
		t.Fatalf("with room again: exit %d: %s", res.code, res.stderr)
	}
	check := newEnv(t)
	check.vars = append(check.vars, "AGENTCTL_AUDIT_LOG="+filepath.Join(full, "audit.jsonl"))
	if res := check.run(agentctlBin(t), "audit", "verify"); res.code != 0 {
		t.Errorf("audit verify: exit %d: %s%s", res.code, res.stdout, res.stderr)
	}
}

// fillDisk writes zeros to path until the file system is full.
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

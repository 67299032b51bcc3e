package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// exitAudit is agentctl's exit code when the audit record cannot be
// written: nothing ran.
const exitAudit = 74

// mount runs mount(8) and, unless it is a remount, unmounts in cleanup;
// it skips the test when this process may not mount (not root, no
// CAP_SYS_ADMIN).
func mount(t *testing.T, dir string, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Skipf("cannot mount here (%v): %s", err, bytes.TrimSpace(out))
	}
	if args[0] == "-o" && strings.HasPrefix(args[1], "remount") {
		return
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// fill writes to a file in dir until the file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			return
		}
	}
}

// TestAuditFailClosed: when the audit log cannot be written (a full file
// system, a read-only directory), an allowed delete does not run: exit 74,
// one line saying why, and the configmap stays. (A full tmpfs with an
// existing log is not a case: a record may still fit in the log's last,
// partly used page, and then it is written and the command rightly runs.)
func TestAuditFailClosed(t *testing.T) {
	c := testenv.Start(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *env) string // returns the log path
	}{
		{"full file system, new log", func(t *testing.T, e *env) string {
			dir := filepath.Join(e.home, "full")
			os.Mkdir(dir, 0o700)
			mount(t, dir, "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", dir)
			fill(t, dir)
			return filepath.Join(dir, "audit.jsonl")
		}},
		{"read-only directory, new log", func(t *testing.T, e *env) string {
			dir := filepath.Join(e.home, "ro")
			os.Mkdir(dir, 0o700)
			mount(t, dir, "--bind", dir, dir)
			mount(t, dir, "-o", "remount,bind,ro", dir)
			return filepath.Join(dir, "audit.jsonl")
		}},
		{"read-only directory, existing log", func(t *testing.T, e *env) string {
			dir := filepath.Join(e.home, "ro")
			os.Mkdir(dir, 0o700)
			log := filepath.Join(dir, "audit.jsonl")
			e.vars = append(e.vars, "AGENTCTL_AUDIT_LOG="+log) // again below, same value
			if got := e.agentctl("kubectl", "--kubeconfig", admin, "get", "ns", "default"); got.code != 0 || len(readAudit(t, log)) != 2 {
				t.Fatalf("a read before the log goes read-only: exit %d\n%s", got.code, got.stderr)
			}
			mount(t, dir, "--bind", dir, dir)
			mount(t, dir, "-o", "remount,bind,ro", dir)
			return log
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := c.NewNamespace(t)
			c.Apply(t, ns, webFixtures)
			e := newEnv(t)
			pol := devProdPolicy(t, e.dir, ns, "prod-elsewhere", 0)
			del := func() result {
				return e.agentctl("--policy", pol, "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config")
			}
			log := tc.setup(t, e)
			e.vars = append(e.vars, "AGENTCTL_AUDIT_LOG="+log)
			got := del()
			if got.code != exitAudit {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", got.code, exitAudit, got.stdout, got.stderr)
			}
			// One line saying why, and at most a hint line.
			lines := strings.Split(strings.TrimSuffix(got.stderr, "\n"), "\n")
			if !strings.Contains(lines[0], "command not run") || !strings.Contains(lines[0], log) {
				t.Errorf("stderr %q, want a first line saying the command did not run for the audit log %q", got.stderr, log)
			}
			if len(lines) > 2 || len(lines) == 2 && !strings.HasPrefix(lines[1], "hint: ") {
				t.Errorf("stderr %q, want one line and at most a hint", got.stderr)
			}
			if strings.Contains(got.stdout, "deleted") {
				t.Errorf("stdout says something was deleted: %q", got.stdout)
			}
			if !configMapExists(t, c, ns, "app-config") {
				t.Fatal("the configmap was deleted although its audit record could not be written")
			}
			// The control: with a log it can write, the same delete runs.
			e.vars = append(e.vars, "AGENTCTL_AUDIT_LOG="+filepath.Join(e.home, "writable", "audit.jsonl"))
			if got := del(); got.code != 0 || configMapExists(t, c, ns, "app-config") {
				t.Errorf("with a writable log: exit %d and the configmap is still there; the policy should allow it\nstderr: %s", got.code, got.stderr)
			}
		})
	}
}

// TestAuditMasksSecretsInArgs: secret values in an agent's argv, whether
// the command was refused or ran, never reach the audit log file.
func TestAuditMasksSecretsInArgs(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	pol := devProdPolicy(t, e.dir, "dev-elsewhere", "prod-elsewhere", 0)
	allow := filepath.Join(e.dir, "allow-writes.yaml")
	if err := os.WriteFile(allow, []byte("rules:\n  - {name: writes-allowed, class: write, decision: allow}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	secrets := []string{"hunter2-refused", "hunter2-allowed", "s3cr3t-file-value", "tok-unique-equals", "tok-unique-spaced"}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"refused: create secret --from-literal=k=v", []string{"--policy", pol, "kubectl", "--kubeconfig", admin, "-n", ns,
			"create", "secret", "generic", "s1", "--from-literal=password=hunter2-refused"}, exitDenied},
		{"allowed: create secret --from-literal k=v", []string{"--policy", allow, "kubectl", "--kubeconfig", admin, "-n", ns,
			"create", "secret", "generic", "s2", "--from-literal", "password=hunter2-allowed", "--from-literal=api-key=s3cr3t-file-value"}, 0},
		{"--token=VALUE", []string{"kubectl", "--kubeconfig", admin, "-n", ns, "--token=tok-unique-equals", "get", "pods"}, exitDenied},
		{"--token VALUE", []string{"kubectl", "--kubeconfig", admin, "-n", ns, "get", "pods", "--token", "tok-unique-spaced"}, exitDenied},
	} {
		got := e.agentctl(tc.args...)
		if got.code != tc.code {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tc.name, got.code, tc.code, got.stdout, got.stderr)
		}
	}
	if _, err := c.AdminClient(t).CoreV1().Secrets(ns).Get(context.Background(), "s2", metav1.GetOptions{}); err != nil {
		t.Errorf("the allowed create secret did not run: %v", err)
	}
	recs := e.auditRecords()
	if n := countKind(recs, "decision"); n != 4 {
		t.Fatalf("%d decision records, want 4: the grep would check nothing", n)
	}
	if args := fmt.Sprint(recs[0]["args"]); !strings.Contains(args, "--from-literal") || !strings.Contains(args, "s1") {
		t.Errorf("first decision record's args %s: want the command, masked, not left out", args)
	}
	for _, s := range secrets {
		if files := filesHolding(t, s, filepath.Dir(e.auditPath())); len(files) > 0 {
			t.Errorf("%q is in the audit log", s)
		}
	}
}

func countKind(recs []map[string]any, kind string) int {
	n := 0
	for _, r := range recs {
		if r["kind"] == kind {
			n++
		}
	}
	return n
}

// TestAuditConcurrentCommands: 64 agentctl processes reading the real
// cluster at once leave 128 records (a decision and a result each) in one
// unbroken chain.
func TestAuditConcurrentCommands(t *testing.T) {
	const n = 64
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	bin := agentctlBin(t)

	// A guard against hangs only: 64 processes on a small shared machine.
	ctx, cancel := context.WithTimeout(context.Background(), 3*hang)
	defer cancel()
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmd := exec.CommandContext(ctx, bin, "kubectl", "--kubeconfig", admin, "-n", ns, "get", "configmaps", "-o", "name")
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
		cmd.WaitDelay = 10 * time.Second
		cmd.Env, cmd.Dir = e.vars, e.dir
		outs[i] = &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil || !strings.Contains(outs[i].String(), "configmap/app-config") {
			t.Errorf("process %d: %v\n%s", i, err, outs[i])
		}
	}
	if ctx.Err() != nil {
		t.Fatal("the processes hung and were killed")
	}

	recs := e.auditRecords()
	byID := map[string][]string{}
	for i, r := range recs {
		if seq := fmt.Sprint(r["seq"]); seq != fmt.Sprint(i+1) {
			t.Errorf("record %d has seq %s", i+1, seq)
		}
		id := fmt.Sprint(r["id"])
		byID[id] = append(byID[id], fmt.Sprint(r["kind"]))
	}
	if len(recs) != 2*n || len(byID) != n {
		t.Errorf("%d records of %d requests, want %d of %d", len(recs), len(byID), 2*n, n)
	}
	for id, kinds := range byID {
		if strings.Join(kinds, ",") != "decision,result" {
			t.Errorf("request %s: records %v, want decision then result", id, kinds)
		}
	}
	if got := e.agentctl("audit", "verify"); got.code != 0 {
		t.Errorf("audit verify: exit %d\n%s%s", got.code, got.stdout, got.stderr)
	}
}

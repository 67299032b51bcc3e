package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCredentialsDeployTokenNeverLeaks: an allowed kubectl apply runs with
// a deploy token from Vault's Kubernetes secrets engine; the test knows
// the exact token (the Vault test server mints it) and finds it nowhere the
// agent or anyone later could read it: not in the output, even when the
// command prints its kubeconfig, not in the audit log, not in any file left
// under HOME or TMPDIR.
func TestCredentialsDeployTokenNeverLeaks(t *testing.T) {
	l := newCredLab(t)
	l.startVault(t)
	l.config(t, l.vaultConfig(t))
	pol := l.policy(t, `  - {name: dev-writes-allowed, env: dev, class: write, decision: allow}
  - {name: kubeconfig-for-this-test, env: dev, class: secret, subcommand: "config view", decision: allow}
`)
	e := l.e

	var outputs []result
	got := e.agentctlStdin(appliedConfigMap, "--policy", pol, "kubectl", "apply", "-f", "-", "-v=9")
	if got.code != 0 || !strings.Contains(got.stdout, "configmap/applied-by-agent created") {
		t.Fatalf("apply: exit %d, want 0\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	outputs = append(outputs, got)
	if !configMapExists(t, l.c, l.ns, "applied-by-agent") {
		t.Error("apply: the configmap is not in the cluster")
	}
	if id := fmt.Sprint(e.lastResult()["identity"]); !strings.HasPrefix(id, "deploy vault-kubernetes kubernetes/deploy") {
		t.Errorf("apply: audit identity %q, want the Vault deploy role", id)
	}

	// The child's kubeconfig, printed raw: its token must be masked.
	got = e.agentctl("--policy", pol, "kubectl", "config", "view", "--raw")
	if got.code != 0 || !strings.Contains(got.stdout, "[REDACTED") {
		t.Errorf("config view --raw: exit %d, want 0 and the token masked\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	outputs = append(outputs, got)

	tokens := l.tokens()
	if len(tokens) != 2 {
		t.Fatalf("Vault minted %d tokens, want 2 (one per command)", len(tokens))
	}
	for i, tok := range tokens {
		for _, out := range outputs {
			if strings.Contains(out.stdout, tok) || strings.Contains(out.stderr, tok) {
				t.Errorf("token %d reached the agent's output", i+1)
			}
		}
		if files := filesHolding(t, tok, e.home, l.tmp, e.dir); len(files) > 0 {
			t.Errorf("token %d is in files left behind: %s", i+1, strings.Join(files, ", "))
		}
	}
	if b, err := os.ReadFile(e.auditPath()); err != nil || len(b) == 0 {
		t.Errorf("audit log %q: %v (%d bytes): the grep above checked nothing", e.auditPath(), err, len(b))
	}
	assertNoCredentialDirs(t, l.tmp)
}

// assertNoCredentialDirs checks that no temporary kubeconfig dir is left.
func assertNoCredentialDirs(t *testing.T, tmp string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(tmp, "agentctl-cred-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("temporary credential dirs left behind: %s", strings.Join(left, ", "))
	}
}

// TestCredentialsSecretValuesRedacted: when a policy lets a secret read
// through and RBAC lets the read identity read that one Secret, the agent
// gets its values as [REDACTED:secret] and the audit record says so.
func TestCredentialsSecretValuesRedacted(t *testing.T) {
	l := newCredLab(t)
	l.startVault(t)
	l.config(t, l.vaultConfig(t))
	value := "hunter2-in-cluster-" + l.ns
	l.c.Apply(t, l.ns, fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata: {name: db-credentials}
stringData: {password: %q}
---
apiVersion: v1
kind: Secret
metadata: {name: other-secret}
stringData: {password: %q}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-db-credentials}
rules:
- {apiGroups: [""], resources: [secrets], resourceNames: [db-credentials], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read-identity-reads-db-credentials}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-db-credentials}
subjects:
- {kind: ServiceAccount, name: %s-read, namespace: %s}
`, value, value, l.prefix, l.ns))
	pol := l.policy(t, "  - {name: secret-reads-for-this-test, class: secret, decision: sandbox}\n")
	encoded := base64.StdEncoding.EncodeToString([]byte(value))

	for _, output := range []string{"yaml", "json"} {
		t.Run("get secret NAME -o "+output, func(t *testing.T) {
			got := l.e.agentctl("--policy", pol, "kubectl", "get", "secret", "db-credentials", "-o", output)
			if got.code != 0 || !strings.Contains(got.stdout, "[REDACTED:secret]") {
				t.Fatalf("exit %d, want 0 and [REDACTED:secret]\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
			}
			if strings.Contains(got.stdout, encoded) || strings.Contains(got.stdout, value) {
				t.Errorf("the secret's value reached the agent:\n%s", got.stdout)
			}
			if !strings.Contains(got.stdout, "db-credentials") {
				t.Errorf("the rest of the object is gone:\n%s", got.stdout)
			}
			res := l.e.lastResult()
			if res["redacted"] != true {
				t.Errorf("audit redacted = %v, want true (redactions %v)", res["redacted"], res["redactions"])
			}
			if red, _ := res["redactions"].(map[string]any); red["secret"] == nil {
				t.Errorf("audit redactions %v, want a count for secret", res["redactions"])
			}
		})
	}
	t.Run("a secret RBAC does not grant", func(t *testing.T) {
		got := l.e.agentctl("--policy", pol, "kubectl", "get", "secret", "other-secret", "-o", "yaml")
		if got.code == 0 || !strings.Contains(got.stderr, "Forbidden") {
			t.Errorf("exit %d, want kubectl's Forbidden\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
		}
	})
	if files := filesHolding(t, encoded, l.e.home); len(files) > 0 {
		t.Errorf("the secret's value is in %s", strings.Join(files, ", "))
	}
}

// TestCredentialsVaultLeaseRevoked: the Vault lease of a command's
// credential is revoked when the command succeeds, when it fails and when
// agentctl is interrupted while the command runs; the audit record names
// the lease.
func TestCredentialsVaultLeaseRevoked(t *testing.T) {
	l := newCredLab(t)
	l.startVault(t)
	l.config(t, l.vaultConfig(t))
	check := func(t *testing.T, revokedBefore int) {
		t.Helper()
		revoked := l.vault.Revoked()
		if live := l.vault.Live(); len(live) > 0 {
			t.Errorf("leases still live: %v", live)
		}
		if n := len(revoked) - revokedBefore; n != 1 {
			t.Fatalf("%d lease(s) revoked by this command, want 1", n)
		}
		lease := revoked[len(revoked)-1]
		if got := fmt.Sprint(l.e.lastResult()["leases"]); !strings.Contains(got, lease) {
			t.Errorf("audit leases %q do not name the revoked lease %q", got, lease)
		}
		assertNoCredentialDirs(t, l.tmp)
	}

	t.Run("exit 0: get configmaps", func(t *testing.T) {
		before := len(l.vault.Revoked())
		if got := l.e.agentctl("kubectl", "get", "configmaps"); got.code != 0 {
			t.Fatalf("exit %d, want 0\nstderr: %s", got.code, got.stderr)
		}
		check(t, before)
	})
	t.Run("kubectl fails: get cm missing", func(t *testing.T) {
		before := len(l.vault.Revoked())
		got := l.e.agentctl("kubectl", "get", "cm", "missing")
		if got.code != 1 || !strings.Contains(got.stderr, "NotFound") {
			t.Fatalf("exit %d, want kubectl's 1 and NotFound\nstderr: %s", got.code, got.stderr)
		}
		check(t, before)
	})
	for _, group := range []bool{false, true} {
		name := "interrupted: kill -INT agentctl during get configmaps --watch"
		if group {
			name = "interrupted: Ctrl-C to the process group during get configmaps --watch"
		}
		t.Run(name, func(t *testing.T) {
			before := len(l.vault.Revoked())
			code, stderr := interruptWhen(t, l.e, group, "app-config", "kubectl", "get", "configmaps", "--watch")
			if code == 0 {
				t.Errorf("exit 0 after an interrupt\nstderr: %s", stderr)
			}
			check(t, before)
		})
	}
	t.Run("interrupted, unsandboxed: SIGINT during an allowed watch with the deploy identity", func(t *testing.T) {
		pol := l.policy(t, "  - {name: reads-unsandboxed-for-this-test, env: dev, class: read, decision: allow}\n")
		before := len(l.vault.Revoked())
		code, stderr := interruptWhen(t, l.e, false, "app-config", "--policy", pol, "kubectl", "get", "configmaps", "--watch")
		if code == 0 {
			t.Errorf("exit 0 after an interrupt\nstderr: %s", stderr)
		}
		check(t, before)
		if id := fmt.Sprint(l.e.lastResult()["identity"]); !strings.HasPrefix(id, "deploy ") {
			t.Errorf("audit identity %q, want the deploy identity", id)
		}
	})
}

// interruptWhen starts agentctl, sends it SIGINT once its stdout shows
// want, and returns its exit code and stderr. With group, agentctl runs in
// its own process group and the whole group gets SIGINT, as Ctrl-C in a
// terminal does; otherwise only agentctl does, as from kill -INT.
func interruptWhen(t *testing.T, e *env, group bool, want string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentctlBin(t), args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env, cmd.Dir = e.vars, e.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: group}
	var mu sync.Mutex
	var stdout, stderr bytes.Buffer
	cmd.Stdout = lockedWriter{&mu, &stdout}
	cmd.Stderr = lockedWriter{&mu, &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for shown := false; !shown; {
		select {
		case err := <-done:
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("agentctl ended (%v) before it showed %q\nstdout: %s\nstderr: %s", err, want, stdout.String(), stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		mu.Lock()
		shown = strings.Contains(stdout.String(), want)
		mu.Unlock()
	}
	pid := cmd.Process.Pid
	if group {
		pid = -pid
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-done
	if ctx.Err() != nil {
		t.Fatalf("agentctl %s did not end after SIGINT and was killed\nstderr: %s", strings.Join(args, " "), stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	return cmd.ProcessState.ExitCode(), stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

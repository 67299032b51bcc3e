package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// shimEnv is an e2e environment whose PATH starts with agentctl's shims
// (installed by `agentctl shims install`), then the directory of the real
// terraform, then the caller's PATH: what an agent gets when it follows
// docs/agents.md.
func shimEnv(t *testing.T, kubeconfig string) *env {
	t.Helper()
	e := newEnv(t)
	shims := filepath.Join(t.TempDir(), "shims")
	if got := e.agentctl("shims", "install", shims); got.code != 0 {
		t.Fatalf("agentctl shims install exited %d\nstderr: %s", got.code, got.stderr)
	}
	path := shims + string(filepath.ListSeparator) + filepath.Dir(testenv.Terraform(t))
	vars := e.vars[:0:0]
	for _, kv := range e.vars {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" {
			path += string(filepath.ListSeparator) + v
		} else {
			vars = append(vars, kv)
		}
	}
	e.vars = append(vars, "PATH="+path, "KUBECONFIG="+kubeconfig, "CHECKPOINT_DISABLE=1")
	return e
}

// sh runs script with /bin/sh in e, as an agent's shell tool would, so
// that "kubectl" and "terraform" are found on e's PATH. A shim that ends
// up calling itself would never finish: the command is killed after two
// minutes and the test fails saying so.
func (e *env) sh(script string, extraEnv ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Env = append(append([]string(nil), e.vars...), extraEnv...)
	cmd.Dir = e.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Fatalf("%s did not finish (a shim calling itself?)\nstderr: %s", script, stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		e.t.Fatalf("sh -c %q: %v", script, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// TestShimsInterceptPlainKubectl checks that with the shims first on PATH a
// plain `kubectl delete` in CI is refused by agentctl (77, the object
// stays) and a plain `kubectl get` reads the real cluster.
func TestShimsInterceptPlainKubectl(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := shimEnv(t, c.Kubeconfig(t, testenv.UserAdmin))

	t.Run("CI=true: kubectl delete cm NAME is refused", func(t *testing.T) {
		got := e.sh("kubectl -n " + ns + " delete cm app-config")
		if got.code != exitDenied {
			t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", got.code, exitDenied, got.stdout, got.stderr)
		}
		if !strings.HasPrefix(got.stderr, "agentctl: ") {
			t.Errorf("stderr does not come from agentctl: %q", got.stderr)
		}
		if !configMapExists(t, c, ns, "app-config") {
			t.Error("configmap app-config is gone after a refused delete")
		}
	})

	t.Run("AGENTCTL_OUTPUT=json: the refusal is one JSON object", func(t *testing.T) {
		got := e.sh("kubectl delete -n "+ns+" configmap/app-config", "AGENTCTL_OUTPUT=json")
		if got.code != exitDenied {
			t.Fatalf("exit code %d, want %d\nstderr: %s", got.code, exitDenied, got.stderr)
		}
		var refusal struct {
			ExitCode int    `json:"exitCode"`
			Decision string `json:"decision"`
			Class    string `json:"class"`
		}
		if err := json.Unmarshal([]byte(got.stderr), &refusal); err != nil {
			t.Fatalf("stderr is not one JSON object: %v\n%s", err, got.stderr)
		}
		if refusal.ExitCode != exitDenied || refusal.Class != "destructive" {
			t.Errorf("refusal = %+v, want exitCode 77 and class destructive", refusal)
		}
		if !configMapExists(t, c, ns, "app-config") {
			t.Error("configmap app-config is gone after a refused delete")
		}
	})

	t.Run("kubectl get cm NAME -o name reads the cluster", func(t *testing.T) {
		got := e.sh("kubectl -n " + ns + " get cm app-config -o name")
		if got.code != 0 || strings.TrimSpace(got.stdout) != "configmap/app-config" {
			t.Errorf("exit %d, stdout %q, want 0 and configmap/app-config\nstderr: %s", got.code, got.stdout, got.stderr)
		}
	})

	t.Run("kubectl get cm MISSING passes kubectl's exit code through", func(t *testing.T) {
		got := e.sh("kubectl -n " + ns + " get cm no-such-config")
		if got.code != 1 || !strings.Contains(got.stderr, `"no-such-config" not found`) {
			t.Errorf("exit %d, stderr %q, want kubectl's 1 and NotFound", got.code, got.stderr)
		}
	})
}

// TestShimsTerraformReachesTheRealTerraform checks that a plain
// `terraform version` through the shim runs the real terraform found
// after the shim dir on PATH, rather than the shim calling itself.
func TestShimsTerraformReachesTheRealTerraform(t *testing.T) {
	e := shimEnv(t, filepath.Join(t.TempDir(), "no-kubeconfig"))
	if got := e.sh("command -v terraform"); !strings.HasSuffix(strings.TrimSpace(got.stdout), "/shims/terraform") {
		t.Fatalf("terraform resolves to %q, want the shim", got.stdout)
	}
	got := e.sh("terraform version")
	if got.code != 0 || !strings.Contains(got.stdout, "Terraform "+testenv.TerraformVersion) {
		t.Errorf("exit %d, stdout %q, want 0 and Terraform %s\nstderr: %s", got.code, got.stdout, testenv.TerraformVersion, got.stderr)
	}
}

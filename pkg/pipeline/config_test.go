package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/agentctl/agentctl/pkg/credentials"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/run"
)

func TestNewWiresTheStages(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "read.kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	credsDir := filepath.Join(dir, "creds")
	creds, err := credentials.Parse(filepath.Join(credsDir, "config.yaml"),
		[]byte("targets:\n- name: test\n  match: {context: lab}\n  read:\n    kubeconfig: {path: "+kubeconfig+"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	base := Config{Home: dir, AuditDir: "/audit", Deny: []string{"/inbox-key"}, Environ: []string{"PATH=/bin", "TF_VAR_x=1"}}

	t.Run("no credentials: the agent's kubeconfig, pinned", func(t *testing.T) {
		p := New(base)
		ex := p.Executor.(*run.LocalExecutor)
		if want := []string{"/audit", "/inbox-key"}; !slices.Equal(ex.Deny, want) {
			t.Errorf("sandbox deny list %q, want %q", ex.Deny, want)
		}
		if p.Pin == nil || ex.Credentials != nil {
			t.Errorf("want the kubeconfig pinned and no credential source")
		}
		if _, checked := p.Classifiers["kubectl"].(TargetChecked); checked {
			t.Errorf("kubectl is target-checked without targets")
		}
		if !slices.Contains(ex.Env, "TF_VAR_x=1") {
			t.Errorf("child environment %q lacks terraform's input variables", ex.Env)
		}
	})
	t.Run("credentials: brokered identities, targets checked, their config denied", func(t *testing.T) {
		cfg := base
		cfg.Credentials = creds
		p := New(cfg)
		ex := p.Executor.(*run.LocalExecutor)
		if want := []string{"/audit", credsDir, "/inbox-key"}; !slices.Equal(ex.Deny, want) {
			t.Errorf("sandbox deny list %q, want %q", ex.Deny, want)
		}
		if p.Pin != nil || ex.Credentials == nil {
			t.Errorf("want no pin and a credential source")
		}
		_, err := p.Classifiers["kubectl"].Classify(context.Background(), &request.Request{Tool: "kubectl", Args: []string{"--kubeconfig=/agent/own", "get", "pods"}})
		var refused *RefusedError
		if !errors.As(err, &refused) || refused.ExitCode() != 77 {
			t.Errorf("an agent's own --kubeconfig: err %v, want a *RefusedError (exit 77)", err)
		}
	})
}

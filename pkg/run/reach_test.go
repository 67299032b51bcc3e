package run

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
)

// TestCredentialReachesTheAssessedServer checks that a brokered identity,
// picked by the target's names, is used only for the server the command
// was assessed for.
func TestCredentialReachesTheAssessedServer(t *testing.T) {
	dir := t.TempDir()
	cred := filepath.Join(dir, "cred")
	// The credential's kubeconfig: its current context is prod.
	src := strings.Replace(twoContexts, "current-context: dev", "current-context: prod", 1)
	if err := os.WriteFile(cred, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		target classify.Target
		ok     bool
	}{
		{"the same server", classify.Target{Context: "prod-eu", Server: "https://prod.example:6443"}, true},
		{"the same server written another way", classify.Target{Context: "prod-eu", Server: "HTTPS://PROD.example:6443/"}, true},
		{"no server was known", classify.Target{Context: "prod-eu"}, true},
		{"a dev server under a prod name", classify.Target{Context: "prod-eu", Server: "https://dev.example:6443"}, false},
		{"the same URL with a CA the credential does not have", classify.Target{Context: "prod-eu", Server: "https://prod.example:6443", CASHA256: strings.Repeat("ab", 32)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := credentialReaches(cred, tc.target)
			if tc.ok != (err == nil) {
				t.Fatalf("credentialReaches = %v, want ok=%v", err, tc.ok)
			}
			var tm *TargetMismatchError
			if err != nil && (!errors.As(err, &tm) || tm.ExitCode() != 77) {
				t.Errorf("error %T %v, want a *TargetMismatchError (exit 77)", err, err)
			}
		})
	}
}

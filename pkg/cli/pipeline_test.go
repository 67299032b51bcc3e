package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/agentctl/agentctl/pkg/run"
)

// The one-shot face hands the conductor agentctl's own files to keep from
// sandboxed commands: the audit log's directory and the inbox key's.
func TestNewPipelineDeniesAgentctlsOwnFiles(t *testing.T) {
	h := newCLIHome(t, "XDG_CONFIG_HOME="+filepath.Join(t.TempDir(), "cfg"), "AGENTCTL_NON_INTERACTIVE=1")
	ios, _, _, _ := Test()
	f := &Factory{IO: ios, Environ: h.env, Executable: os.Executable, Getwd: func() (string, error) { return h.home, nil }, AdminDir: h.admin}
	p, cleanup, err := newPipeline(f)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	log, auditPath, err := openAuditLog(f)
	if err != nil {
		t.Fatal(err)
	}
	log.Close()
	keyDir := filepath.Join(f.Getenv("XDG_CONFIG_HOME"), "agentctl")
	deny := p.Executor.(*run.LocalExecutor).Deny
	for _, want := range []string{filepath.Dir(auditPath), keyDir} {
		if !slices.Contains(deny, want) {
			t.Errorf("sandbox deny list %q lacks %q", deny, want)
		}
	}
}

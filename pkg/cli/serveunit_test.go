package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/exitcode"
)

func TestServeInstallUnit(t *testing.T) {
	home := t.TempDir()
	exe := "/opt/agent tools/agentctl"
	newF := func() *Factory {
		ios, _, _, _ := Test()
		return &Factory{IO: ios, Environ: []string{"HOME=" + home}, Executable: func() (string, error) { return exe, nil }}
	}
	f := newF()
	if code := Execute(t.Context(), f, []string{"serve", "--install-unit"}); code != 0 {
		t.Fatalf("serve --install-unit: exit %d: %s", code, f.IO.ErrOut)
	}
	path := filepath.Join(home, ".config", "systemd", "user", "agentctl-broker.service")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the unit was not written: %v", err)
	}
	if !strings.Contains(string(b), "\nExecStart=\"/opt/agent tools/agentctl\" serve --foreground\n") || !strings.Contains(string(b), "WantedBy=default.target") {
		t.Errorf("unit:\n%s", b)
	}
	if !strings.Contains(f.IO.ErrOut.(interface{ String() string }).String(), "systemctl --user daemon-reload") {
		t.Errorf("no next step said: %s", f.IO.ErrOut)
	}
	// Printed: the same bytes on stdout, nothing written.
	f = newF()
	if code := Execute(t.Context(), f, []string{"serve", "--install-unit", "--print"}); code != 0 || f.IO.Out.(interface{ String() string }).String() != string(b) {
		t.Errorf("--print: exit %d, stdout:\n%s", code, f.IO.Out)
	}
	// A unit the user edited is kept.
	os.WriteFile(path, []byte("# mine\n"), 0o644)
	f = newF()
	if code := Execute(t.Context(), f, []string{"serve", "--install-unit"}); code == 0 || !strings.Contains(f.IO.ErrOut.(interface{ String() string }).String(), "exists with other content") {
		t.Errorf("over an edited unit: exit %d: %s", code, f.IO.ErrOut)
	}
	if b, _ := os.ReadFile(path); string(b) != "# mine\n" {
		t.Errorf("the edited unit was overwritten: %q", b)
	}
	// XDG_CONFIG_HOME wins over HOME.
	cfg := t.TempDir()
	f = newF()
	f.Environ = append(f.Environ, "XDG_CONFIG_HOME="+cfg)
	if code := Execute(t.Context(), f, []string{"serve", "--install-unit"}); code != 0 {
		t.Fatalf("with XDG_CONFIG_HOME: exit %d: %s", code, f.IO.ErrOut)
	}
	if _, err := os.Stat(filepath.Join(cfg, "systemd", "user", "agentctl-broker.service")); err != nil {
		t.Error(err)
	}
	f = newF()
	if code := Execute(t.Context(), f, []string{"serve", "--print"}); code != exitcode.Usage {
		t.Errorf("--print alone: exit %d, want %d", code, exitcode.Usage)
	}
}

// TestBrokerUnitIsTheDocumentedOne keeps docs/agentctl-broker.service the
// unit --install-unit writes for /usr/bin/agentctl.
func TestBrokerUnitIsTheDocumentedOne(t *testing.T) {
	b, err := os.ReadFile("../../docs/agentctl-broker.service")
	if err != nil {
		t.Fatal(err)
	}
	if got := brokerUnit("/usr/bin/agentctl"); got != string(b) {
		t.Errorf("docs/agentctl-broker.service differs from serve --install-unit --print:\n%s", got)
	}
}

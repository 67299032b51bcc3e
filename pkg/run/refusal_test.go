package run

import (
	"strings"
	"testing"
)

// TestSandboxRefusalSaysWhatAndHow: the note on a refused destination
// names the sandbox, each destination, and the file that can grant it.
func TestSandboxRefusalSaysWhatAndHow(t *testing.T) {
	got := sandboxRefusal([]string{"exfil.example.test:443", "10.0.0.9:5432"}, "/etc/agentctl/policy.yaml")
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "hint: ") {
		t.Fatalf("want a message line and a hint line:\n%s", got)
	}
	for _, want := range []string{"the sandbox refused a connection to \"exfil.example.test:443\", \"10.0.0.9:5432\"", "/etc/agentctl/policy.yaml", "decide allow"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
}

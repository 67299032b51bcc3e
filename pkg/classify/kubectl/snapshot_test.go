package kubectl

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/request"
)

func TestCreateSecretReadsSnapshotsOfItsFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tls.crt"), []byte("CERT"), 0o600)
	os.WriteFile(filepath.Join(dir, "pw"), []byte("assessed"), 0o600)
	os.Mkdir(filepath.Join(dir, "conf"), 0o700)
	os.WriteFile(filepath.Join(dir, "conf", "a.env"), []byte("A=1"), 0o600)
	a, err := New(Options{}).Classify(context.Background(), &request.Request{
		Tool: "kubectl", Cwd: dir, Env: []string{"HOME=" + dir},
		Args: []string{"create", "secret", "generic", "s", "--from-file=tls.crt", "--from-file", "password=pw", "--from-file=conf"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(a.Exec.Scratch)
	if a.Refused != "" || a.Exec.Scratch == "" {
		t.Fatalf("refused %q, scratch %q", a.Refused, a.Exec.Scratch)
	}
	// The agent rewrites its files after the assessment.
	os.WriteFile(filepath.Join(dir, "pw"), []byte("swapped"), 0o600)

	var paths []string
	for _, arg := range a.Exec.Args {
		if v, ok := strings.CutPrefix(arg, "--from-file="); ok {
			if strings.Contains(v, dir+string(filepath.Separator)) {
				t.Errorf("argument %q still reads the agent's file", arg)
			}
			_, p, keyed := strings.Cut(v, "=")
			if !keyed {
				p = v
			}
			paths = append(paths, p)
		}
	}
	if len(paths) != 3 {
		t.Fatalf("Exec.Args = %q", a.Exec.Args)
	}
	if filepath.Base(paths[0]) != "tls.crt" || !strings.HasPrefix(a.Exec.Args[4], "--from-file=") {
		t.Errorf("the key kubectl derives (the base name) changed: %q", paths[0])
	}
	if b, _ := os.ReadFile(paths[1]); string(b) != "assessed" {
		t.Errorf("kubectl would read %q, want the assessed bytes", b)
	}
	if b, _ := os.ReadFile(filepath.Join(paths[2], "a.env")); string(b) != "A=1" {
		t.Errorf("directory input not copied: %q", b)
	}
}

func TestCreateSecretWithAMissingFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	a, err := New(Options{}).Classify(context.Background(), &request.Request{
		Tool: "kubectl", Cwd: dir, Env: []string{"HOME=" + dir},
		Args: []string{"create", "configmap", "c", "--from-env-file=later.env"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(a.Exec.Scratch)
	if !strings.Contains(a.Refused, "later.env") {
		t.Errorf("refused = %q: a file that may appear after approval must refuse the command", a.Refused)
	}
}

package testenv

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TerraformDir is a terraform working directory for one test, with its own
// testcloud "cloud".
type TerraformDir struct {
	Bin string // the terraform binary
	Dir string // the working directory, initialised
	// Cloud is testcloud's state directory (TESTCLOUD_DIR), inside Dir:
	// a sandboxed plan may read the working directory, as a real one may
	// reach its cloud's API.
	Cloud string
	Env   []string // see [TerraformEnv]
	// Mirror is the filesystem mirror testcloud is installed from,
	// inside Dir.
	Mirror string
}

// NewTerraformDir copies testdata/terraform/<config> into a temporary
// directory, gives it an empty cloud and runs terraform init there.
func NewTerraformDir(t testing.TB, config string) *TerraformDir {
	t.Helper()
	bin := Terraform(t)
	src, err := repoPath(filepath.Join("testdata", "terraform", config))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	d := &TerraformDir{Bin: bin, Dir: filepath.Join(root, "work")}
	d.Cloud = filepath.Join(d.Dir, ".testcloud")
	if err := os.CopyFS(d.Dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(d.Cloud, 0o755); err != nil {
		t.Fatal(err)
	}
	// The provider mirror is part of the project, as agentctl wants it.
	d.Mirror = filepath.Join(d.Dir, ".mirror")
	d.Env = TerraformEnvMirror(t, d.Cloud, d.Mirror)
	d.Run(t, "init", "-input=false", "-no-color")
	return d
}

// Run runs terraform in the directory and fails the test if it fails. It
// returns the combined output.
func (d *TerraformDir) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.Try(args...)
	if err != nil {
		t.Fatalf("terraform %q: %v\n%s", args, err, out)
	}
	return out
}

// Try runs terraform in the directory and returns its combined output.
func (d *TerraformDir) Try(args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(d.Bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = d.Dir, d.Env, &out, &out
	err := cmd.Run()
	return out.String(), err
}

// CloudSnapshot returns every file of the cloud with its content, to
// compare before and after.
func (d *TerraformDir) CloudSnapshot(t testing.TB) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(d.Cloud, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(d.Cloud, p)
		snap[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

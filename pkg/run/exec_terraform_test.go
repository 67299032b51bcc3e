package run

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tfclass "github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/request"
)

func TestTerraformSandboxGrantsWhatTheParsedConfigNames(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	key := filepath.Join(home, ".ssh", "id_rsa")
	os.MkdirAll(filepath.Dir(key), 0o700)
	os.WriteFile(key, []byte("k"), 0o600)
	mirror := filepath.Join(dir, "mirror")
	os.Mkdir(mirror, 0o755)
	rc := filepath.Join(dir, "agent.tfrc")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(rc, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Mirrors in home are allowed: a denied path stays denied.
	e := &LocalExecutor{Home: home, TerraformAllow: tfclass.CLIConfigAllow{Mirrors: []string{home}}}
	env := []string{"TF_CLI_CONFIG_FILE=" + rc}

	write("# \"" + key + "\"\nprovider_installation {\n  filesystem_mirror {\n    path = \"" + mirror + "\"\n  }\n}\n")
	cfg, cleanup, err := e.terraformSandbox("terraform", "/usr/bin/terraform", []string{"plan"}, dir, env, true)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if slices.Contains(cfg.ReadOnly, key) || !slices.Contains(cfg.ReadOnly, mirror) {
		t.Errorf("read grants %q: want the mirror, not the key named in a comment", cfg.ReadOnly)
	}
	if got := request.Getenv(cfg.Env, "TF_CLI_CONFIG_FILE"); got == rc || got == "" {
		t.Errorf("terraform reads %q, want agentctl's copy", got)
	}

	for name, path := range map[string]string{"holds ~/.ssh": home, "in ~/.ssh": filepath.Dir(key)} {
		write("provider_installation {\n  filesystem_mirror {\n    path = \"" + path + "\"\n  }\n}\n")
		_, _, err := e.terraformSandbox("terraform", "/usr/bin/terraform", []string{"plan"}, dir, env, true)
		var ce *tfclass.CLIConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "denied path") {
			t.Errorf("a mirror that %s: %v", name, err)
		}
	}

	write("plugin_cache_dir = \"" + filepath.Join(home, ".aws") + "\"\n")
	os.Mkdir(filepath.Join(home, ".aws"), 0o700)
	if _, _, err := e.terraformSandbox("terraform", "/usr/bin/terraform", []string{"plan"}, dir, env, true); err == nil {
		t.Error("a plugin cache in ~/.aws was granted")
	}
}

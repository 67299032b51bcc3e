package terraform

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseCLIConfigReadsTheBlocksNotTheText(t *testing.T) {
	for _, tc := range []struct {
		name    string
		src     string
		env     []string
		mirrors []string
		cache   string
		dev     bool
		helpers []string
		outside bool // a provider directory outside the project
	}{
		{name: "a path in a comment is no grant", src: `# see "/home/a/.ssh/id_rsa"
// and "/home/a/.aws/credentials"
/* "/home/a/.kube/config" */
disable_checkpoint = true
`},
		{name: "a path in a credentials token is no grant", src: `credentials "app.example" {
  token = "/home/a/.vault-token"
}
`},
		{name: "filesystem mirror, relative to the working dir", src: `provider_installation {
  filesystem_mirror {
    path    = "mirror"
    include = ["example.com/*/*"]
  }
  direct {
    exclude = ["example.com/*/*"]
  }
}
`, mirrors: []string{"/work/mirror"}},
		{name: "plugin cache with a variable", src: `plugin_cache_dir = "$HOME/.terraform.d/plugin-cache"`,
			env: []string{"HOME=/home/a"}, cache: "/home/a/.terraform.d/plugin-cache", outside: true},
		{name: "TF_PLUGIN_CACHE_DIR wins", src: `plugin_cache_dir = "/cache/a"`,
			env: []string{"TF_PLUGIN_CACHE_DIR=/cache/b"}, cache: "/cache/b", outside: true},
		{name: "plugin cache in the project", src: `plugin_cache_dir = "/work/.cache"`, cache: "/work/.cache"},
		{name: "filesystem mirror outside the project", src: "provider_installation {\n  filesystem_mirror {\n    path = \"/srv/mirror\"\n  }\n}\n",
			mirrors: []string{"/srv/mirror"}, outside: true},
		{name: "filesystem mirror up from the project", src: "provider_installation {\n  filesystem_mirror {\n    path = \"../mirror\"\n  }\n}\n",
			mirrors: []string{"/mirror"}, outside: true},
		{name: "network mirror: egress, not a provider directory", src: "provider_installation {\n  network_mirror {\n    url = \"https://mirror.example/\"\n  }\n}\n"},
		{name: "dev_overrides", src: `provider_installation {
  dev_overrides {
    "agentctl.test/agentctl/testcloud" = "/tmp/evil"
  }
  direct {}
}
`, dev: true},
		{name: "dev_overrides in JSON", src: `{"provider_installation": {"dev_overrides": {"x/y/z": "/tmp/evil"}}}`, dev: true},
		{name: "credentials helper", src: `credentials_helper "example" {
  args = []
}
`, helpers: []string{"example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseCLIConfig("/work/terraform.rc", []byte(tc.src), tc.env, "/work")
			if tc.name == "dev_overrides in JSON" && err != nil {
				// Refusing the shape is as good as seeing the override.
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.Mirrors, tc.mirrors) || cfg.PluginCacheDir != tc.cache ||
				(cfg.DevOverrides != nil) != tc.dev || !reflect.DeepEqual(cfg.CredentialsHelpers, tc.helpers) {
				t.Errorf("got mirrors %q cache %q dev %v helpers %q", cfg.Mirrors, cfg.PluginCacheDir, cfg.DevOverrides, cfg.CredentialsHelpers)
			}
			err = cfg.Check(CLIConfigAllow{})
			var ce *CLIConfigError
			if refused := errors.As(err, &ce); refused != (tc.dev || tc.helpers != nil || tc.outside) {
				t.Errorf("Check: %v", err)
			}
			if tc.outside && !tc.dev && (ce == nil || ce.ExitCode() != 78 || !strings.Contains(ce.Hint(), "terraform.allowMirrors")) {
				t.Errorf("Check: %v, want a configuration error (78) naming terraform.allowMirrors", err)
			}
			if err := cfg.Check(CLIConfigAllow{DevOverrides: true, CredentialsHelper: true, Mirrors: []string{"/home/a", "/cache", "/srv", "/mirror"}}); err != nil {
				t.Errorf("Check with everything allowed: %v", err)
			}
		})
	}
}

func TestParseCLIConfigRefusesWhatItCannotReadLikeTerraform(t *testing.T) {
	for name, src := range map[string]string{
		"syntax":            `provider_installation {`,
		"two blocks":        "provider_installation {\n  direct {}\n}\nprovider_installation {\n  direct {}\n}\n",
		"label":             "provider_installation \"x\" {\n  direct {}\n}\n",
		"unknown method":    "provider_installation {\n  magic {}\n}\n",
		"mirror no path":    "provider_installation {\n  filesystem_mirror {}\n}\n",
		"method with label": "provider_installation {\n  filesystem_mirror \"a\" {\n    path = \"/m\"\n  }\n}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseCLIConfig("/rc", []byte(src), nil, "/"); err == nil {
				t.Errorf("parsed %q", src)
			}
		})
	}
}

func TestReadCLIConfigPicksTheFileTerraformReads(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	write := func(p, s string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := ReadCLIConfig([]string{"HOME=" + home}, "", dir)
	if err != nil || cfg.Path != "" || cfg.Bytes != nil {
		t.Fatalf("no configuration: %+v %v", cfg, err)
	}
	rc := filepath.Join(home, ".terraformrc")
	write(rc, `plugin_cache_dir = "/c"`)
	// terraform login's tokens are not configuration agentctl must carry.
	write(filepath.Join(home, ".terraform.d", "credentials.tfrc.json"), `{"credentials":{}}`)
	if cfg, err = ReadCLIConfig([]string{"HOME=" + home}, "", dir); err != nil || cfg.Path != rc || cfg.PluginCacheDir != "/c" {
		t.Fatalf("~/.terraformrc: %+v %v", cfg, err)
	}
	write(filepath.Join(dir, "my.rc"), `plugin_cache_dir = "/d"`)
	if cfg, err = ReadCLIConfig([]string{"HOME=" + home, "TF_CLI_CONFIG_FILE=my.rc"}, "", dir); err != nil || cfg.Path != filepath.Join(dir, "my.rc") || cfg.PluginCacheDir != "/d" {
		t.Fatalf("TF_CLI_CONFIG_FILE: %+v %v", cfg, err)
	}
	write(filepath.Join(home, ".terraform.d", "extra.tfrc"), `plugin_cache_dir = "/e"`)
	_, err = ReadCLIConfig([]string{"HOME=" + home}, "", dir)
	if err == nil || !strings.Contains(err.Error(), "extra.tfrc") {
		t.Errorf("a merged ~/.terraform.d/*.tfrc: %v", err)
	}
	if _, err = ReadCLIConfig([]string{"HOME=" + home, "TF_CLI_CONFIG_FILE=my.rc"}, "", dir); err != nil {
		t.Errorf("TF_CLI_CONFIG_FILE: terraform reads no ~/.terraform.d/*.tfrc then: %v", err)
	}
}

func TestImpliedLocalMirrorsOutsideTheProjectAreRefused(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	env := []string{"HOME=" + home}
	plugins := filepath.Join(home, ".terraform.d", "plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := ReadCLIConfig(env, "", dir)
	if err != nil || cfg.Check(CLIConfigAllow{}) != nil {
		t.Fatalf("an empty implied mirror: %v %v", err, cfg.Check(CLIConfigAllow{}))
	}
	if err := os.MkdirAll(filepath.Join(plugins, "example.com", "x", "y"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err = ReadCLIConfig(env, "", dir)
	if err != nil || !reflect.DeepEqual(cfg.ImpliedMirrors, []string{plugins}) {
		t.Fatalf("implied mirrors %q (%v), want %q", cfg.ImpliedMirrors, err, plugins)
	}
	if err := cfg.Check(CLIConfigAllow{}); err == nil || !strings.Contains(err.Error(), "implied local mirror") {
		t.Errorf("Check: %v, want the implied mirror refused", err)
	}
	if err := cfg.Check(CLIConfigAllow{Mirrors: []string{plugins}}); err != nil {
		t.Errorf("Check with the mirror allowed: %v", err)
	}
	// An explicit provider_installation block: terraform ignores them.
	rc := filepath.Join(home, ".terraformrc")
	if err := os.WriteFile(rc, []byte("provider_installation {\n  direct {}\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err = ReadCLIConfig(env, "", dir); err != nil || cfg.ImpliedMirrors != nil || cfg.Check(CLIConfigAllow{}) != nil {
		t.Errorf("with provider_installation: implied %q (%v)", cfg.ImpliedMirrors, err)
	}
}

func TestReadToolCLIConfigPicksTheFileTofuReads(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	env := []string{"HOME=" + home}
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	xdg := filepath.Join(home, "xdg")
	write(filepath.Join(xdg, "opentofu", "tofurc"), `plugin_cache_dir = "/x"`)
	if cfg, err := ReadToolCLIConfig("tofu", append(env, "XDG_CONFIG_HOME="+xdg), "", dir); err != nil || cfg.Path != filepath.Join(xdg, "opentofu", "tofurc") {
		t.Errorf("XDG tofurc: %+v %v", cfg, err)
	}
	write(filepath.Join(home, ".terraformrc"), `plugin_cache_dir = "/a"`)
	if cfg, err := ReadToolCLIConfig("tofu", env, "", dir); err != nil || cfg.Path != filepath.Join(home, ".terraformrc") {
		t.Errorf("legacy ~/.terraformrc: %+v %v", cfg, err)
	}
	write(filepath.Join(home, ".tofurc"), `plugin_cache_dir = "/b"`)
	if cfg, err := ReadToolCLIConfig("tofu", env, "", dir); err != nil || cfg.Path != filepath.Join(home, ".tofurc") || cfg.PluginCacheDir != "/b" {
		t.Errorf("~/.tofurc: %+v %v", cfg, err)
	}
	if cfg, err := ReadToolCLIConfig("terraform", env, "", dir); err != nil || cfg.Path != filepath.Join(home, ".terraformrc") {
		t.Errorf("terraform reads ~/.terraformrc: %+v %v", cfg, err)
	}
	if cfg, err := ReadToolCLIConfig("tofu", append(env, "TF_CLI_CONFIG_FILE=my.rc"), "", dir); err != nil || cfg.Path != "" {
		t.Errorf("TF_CLI_CONFIG_FILE (missing) wins for tofu too: %+v %v", cfg, err)
	}
	write(filepath.Join(xdg, "opentofu", "extra.tfrc"), "")
	if _, err := ReadToolCLIConfig("tofu", append(env, "XDG_CONFIG_HOME="+xdg), "", dir); err == nil {
		t.Error("a *.tfrc tofu merges from $XDG_CONFIG_HOME/opentofu was not refused")
	}
}

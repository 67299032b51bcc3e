package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// TerraformVersion is the terraform that testdata/tools/build-terraform.sh
// builds; tests never use a terraform from PATH.
const TerraformVersion = "v1.5.7"

// TestcloudAddress is the source address of the test provider
// (testdata/testcloud) in test configurations.
const TestcloudAddress = "agentctl.test/agentctl/testcloud"

// TerraformHint tells the user how to get terraform and the test provider.
const TerraformHint = "hint: run make testbin (testdata/tools/build-terraform.sh)"

// Terraform returns the path of the cached terraform binary,
// $AGENTCTL_TESTBIN/terraform-v1.5.7/terraform. When it is missing the test
// is skipped, or fails if [Required].
func Terraform(t testing.TB) string {
	t.Helper()
	cache, err := CacheDir()
	if err == nil {
		path := filepath.Join(cache, "terraform-"+TerraformVersion, "terraform")
		if err = executable(path); err == nil {
			return path
		}
	}
	missingTerraform(t, err)
	return ""
}

// Testcloud returns the path of the test provider built from the current
// sources of testdata/testcloud ($AGENTCTL_TESTBIN/testcloud-<hash>/...).
// A provider built from older sources counts as missing.
func Testcloud(t testing.TB) string {
	t.Helper()
	cache, err := CacheDir()
	if err == nil {
		var hash string
		if hash, err = testcloudHash(); err == nil {
			path := filepath.Join(cache, "testcloud-"+hash, "terraform-provider-testcloud")
			if err = executable(path); err == nil {
				return path
			}
		}
	}
	missingTerraform(t, err)
	return ""
}

// TerraformEnv returns the environment a test runs terraform with: a CLI
// configuration that installs testcloud from a filesystem mirror (and
// nothing from anywhere else), TESTCLOUD_DIR and TF_VAR_cloud_dir set to
// cloudDir (the configurations pass the variable to the provider), no checkpoint
// calls, and PATH and HOME from the test's environment.
//
// The mirror is a temporary directory of its own; [NewTerraformDir] puts
// it inside the working directory instead (see [TerraformEnvMirror]).
func TerraformEnv(t testing.TB, cloudDir string) []string {
	t.Helper()
	return TerraformEnvMirror(t, cloudDir, filepath.Join(t.TempDir(), "mirror"))
}

// TerraformEnvMirror is [TerraformEnv] with the filesystem mirror at
// mirror: agentctl refuses mirrors outside the project unless the admin
// config allows them.
func TerraformEnvMirror(t testing.TB, cloudDir, mirror string) []string {
	t.Helper()
	provider := Testcloud(t)
	dir := t.TempDir()
	platform := runtime.GOOS + "_" + runtime.GOARCH
	pkg := filepath.Join(mirror, TestcloudAddress, "0.1.0", platform)
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	// A copy, not a symlink (a sandboxed terraform may read the mirror
	// but not the cache the symlink would point into), nor a hard link
	// (a test may chown the mirror to the agent, and the cache with it).
	if err := copyFile(provider, filepath.Join(pkg, "terraform-provider-testcloud")); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = [%q]
  }
}
`, mirror, TestcloudAddress)
	cfg := filepath.Join(dir, "terraform.rc")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TF_CLI_CONFIG_FILE=" + cfg,
		"TESTCLOUD_DIR=" + cloudDir,
		"TF_VAR_cloud_dir=" + cloudDir,
		"CHECKPOINT_DISABLE=1",
	}
}

// testcloudHash is the hash build-terraform.sh keys the provider on:
// sha256sum over `sha256sum` lines of its Go sources, go.mod and go.sum,
// sorted by path, first 16 hex digits.
func testcloudHash() (string, error) { return sourceHash("testcloud") }

// sourceHash is testbin.sh's src_hash: a hash of the Go sources of
// testdata/dir, which names the cache directory of what they build, so
// that a binary built from older sources counts as missing.
func sourceHash(dir string) (string, error) {
	src, err := repoPath("testdata/" + dir)
	if err != nil {
		return "", err
	}
	var paths []string
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if n := d.Name(); strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum" || n == "package.json" {
			rel, _ := filepath.Rel(src, p)
			paths = append(paths, "./"+filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	var lines strings.Builder
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(src, p))
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(&lines, "%s  %s\n", hex.EncodeToString(sum[:]), p)
	}
	sum := sha256.Sum256([]byte(lines.String()))
	return hex.EncodeToString(sum[:])[:16], nil
}

// repoPath finds rel in the repository that holds the working directory.
func repoPath(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
				return filepath.Join(dir, rel), nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%q not found above the working directory", rel)
		}
		dir = parent
	}
}

func executable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("test binary: %w", err)
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		return fmt.Errorf("test binary %q is not an executable file", path)
	}
	return nil
}

func missingTerraform(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%v\n%s", err, TerraformHint)
	}
	t.Skipf("%v\n%s", err, TerraformHint)
}

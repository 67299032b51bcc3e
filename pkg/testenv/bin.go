package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Versions of the binaries that testdata/tools/build-cluster.sh builds;
// they are the versions that testdata/cluster/go.mod and
// testdata/etcd/go.mod require (a test checks that they agree).
const (
	KubernetesVersion = "v1.34.4"
	EtcdVersion       = "v3.6.4"
	// KwokVersion is the kwok that testdata/tools/testbin.sh installs
	// (its KWOK_VERSION; a test checks that they agree).
	KwokVersion = "v0.8.0"
)

// Hint tells the user how to get the binaries.
const Hint = "hint: run make testbin (testdata/tools/build-cluster.sh)"

// CacheDir is the directory holding the test binaries:
// $AGENTCTL_TESTBIN, or $HOME/.cache/agentctl/testbin.
func CacheDir() (string, error) {
	if dir := os.Getenv("AGENTCTL_TESTBIN"); dir != "" {
		return dir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locate test binaries: %w\nhint: set AGENTCTL_TESTBIN", err)
	}
	return filepath.Join(home, ".cache", "agentctl", "testbin"), nil
}

// BinPath returns where the binary name lives in the cache and whether it is
// there. kube-apiserver, kubectl, kube-controller-manager and
// kube-scheduler live in k8s-<KubernetesVersion>/, etcd in
// etcd-<EtcdVersion>/, kwok in kwok-<KwokVersion>/, otelcol in otelcol-<hash of testdata/otelcol>/,
// mcp-inspector, claude and codex in npm-<hash of testdata/npm>/;
// any other name is looked up as <dir>/<name> in the
// cache's subdirectories and must match exactly one file.
func BinPath(name string) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	var path string
	switch name {
	case "kube-apiserver", "kubectl", "kube-controller-manager", "kube-scheduler":
		path = filepath.Join(cache, "k8s-"+KubernetesVersion, name)
	case "kwok":
		path = filepath.Join(cache, "kwok-"+KwokVersion, name)
	case "etcd":
		path = filepath.Join(cache, "etcd-"+EtcdVersion, name)
	case "otelcol":
		// Built from testdata/otelcol: older sources' build is missing.
		hash, err := sourceHash("otelcol")
		if err != nil {
			return "", err
		}
		path = filepath.Join(cache, "otelcol-"+hash, name)
	case "mcp-inspector", "claude", "codex":
		// Installed from testdata/npm/package.json.
		hash, err := sourceHash("npm")
		if err != nil {
			return "", err
		}
		path = filepath.Join(cache, "npm-"+hash, name)
	default:
		matches, _ := filepath.Glob(filepath.Join(cache, "*", name))
		switch len(matches) {
		case 0:
			return "", fmt.Errorf("test binary %q not found in %q", name, cache)
		case 1:
			path = matches[0]
		default:
			return "", fmt.Errorf("test binary %q is ambiguous: %q", name, matches)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("test binary %q: %w", name, err)
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		return "", fmt.Errorf("test binary %q is not an executable file", path)
	}
	return path, nil
}

// Required reports whether missing test binaries fail tests instead of
// skipping them: when CI is set or AGENTCTL_E2E=1.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("AGENTCTL_E2E") == "1"
}

// Bin returns the path of the cached test binary name (see [BinPath]). When
// it is missing, the test is skipped, or fails if [Required].
func Bin(t testing.TB, name string) string {
	t.Helper()
	path, err := BinPath(name)
	if err != nil {
		missing(t, err)
	}
	return path
}

// missing skips or fails t for a missing prerequisite.
func missing(t testing.TB, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%v\n%s", err, Hint)
	}
	t.Skipf("%v\n%s", err, Hint)
}

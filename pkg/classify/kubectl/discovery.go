package kubectl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/disk"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// DiscoveryFunc returns a REST mapper for the cluster cfg points at, and
// whether its answers came from the server just now ("live") or from a
// cache ("cache"). It is called at most once per classification, and only
// when the built-in table cannot resolve a type. An error (cluster down,
// no credentials) never fails the classification: the classifier carries
// on with built-in knowledge and unresolved types are unknown.
type DiscoveryFunc func(ctx context.Context, cfg clientcmd.ClientConfig, cacheDir string, timeout time.Duration) (Mapper, error)

// Mapper is what discovery yields.
type Mapper struct {
	meta.RESTMapper
	// Fresh reports whether the server was asked during this call.
	Fresh func() bool
}

// DiskDiscovery is the default [DiscoveryFunc]: client-go's disk-cached
// discovery client (the cache kubectl itself keeps, with a short TTL)
// behind a deferred discovery REST mapper and kubectl's short-name
// expander. Requests are bounded by timeout.
func DiskDiscovery(ctx context.Context, cfg clientcmd.ClientConfig, cacheDir string, timeout time.Duration) (Mapper, error) {
	rc, err := cfg.ClientConfig()
	if err != nil {
		return Mapper{}, fmt.Errorf("discovery: %w", err)
	}
	// Discovery runs before anything is decided and outside the sandbox:
	// it must not run code. A kubeconfig credential plugin (exec) or auth
	// provider is dropped; without it the server may refuse discovery, and
	// classification falls back to built-in knowledge (unknown types stay
	// unknown).
	rc.ExecProvider, rc.AuthProvider, rc.AuthConfigPersister = nil, nil, nil
	rc.Timeout = timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < rc.Timeout {
		rc.Timeout = time.Until(dl)
	}
	discDir := filepath.Join(cacheDir, "discovery", hostDir(rc.Host))
	if !cacheFresh(filepath.Join(discDir, "servergroups.json"), cacheTTL) {
		// Probe first: client-go's discovery logs through klog when the
		// server is down, and that would reach the agent's stderr.
		probe, err := discovery.NewDiscoveryClientForConfig(rc)
		if err != nil {
			return Mapper{}, fmt.Errorf("discovery: %w", err)
		}
		if _, err := probe.ServerVersion(); err != nil {
			return Mapper{}, fmt.Errorf("discovery: %w", err)
		}
	}
	dc, err := disk.NewCachedDiscoveryClientForConfig(rc, discDir, filepath.Join(cacheDir, "http"), cacheTTL)
	if err != nil {
		return Mapper{}, fmt.Errorf("discovery: %w", err)
	}
	m := restmapper.NewDeferredDiscoveryRESTMapper(dc)
	return Mapper{RESTMapper: restmapper.NewShortcutExpander(m, dc, func(string) {}), Fresh: dc.Fresh}, nil
}

// cacheTTL is how long discovery answers are reused without asking.
const cacheTTL = 5 * time.Minute

func cacheFresh(path string, ttl time.Duration) bool {
	fi, err := os.Stat(path)
	return err == nil && time.Since(fi.ModTime()) < ttl
}

var unsafeHostChars = regexp.MustCompile(`[^.a-zA-Z0-9]`)

// hostDir turns a server URL into a cache directory name, as kubectl does.
func hostDir(host string) string {
	return unsafeHostChars.ReplaceAllString(host, "_")
}

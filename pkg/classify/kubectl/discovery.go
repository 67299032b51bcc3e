package kubectl

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
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
	rc.Timeout = timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < rc.Timeout {
		rc.Timeout = time.Until(dl)
	}
	host := hostDir(rc.Host)
	dc, err := disk.NewCachedDiscoveryClientForConfig(rc,
		filepath.Join(cacheDir, "discovery", host), filepath.Join(cacheDir, "http"), 5*time.Minute)
	if err != nil {
		return Mapper{}, fmt.Errorf("discovery: %w", err)
	}
	m := restmapper.NewDeferredDiscoveryRESTMapper(dc)
	return Mapper{RESTMapper: restmapper.NewShortcutExpander(m, dc, func(string) {}), Fresh: dc.Fresh}, nil
}

var unsafeHostChars = regexp.MustCompile(`[^.a-zA-Z0-9]`)

// hostDir turns a server URL into a cache directory name, as kubectl does.
func hostDir(host string) string {
	return unsafeHostChars.ReplaceAllString(host, "_")
}

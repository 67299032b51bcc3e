package kubectl

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// DiscoveryFunc returns a REST mapper for the cluster cfg points at. It is
// called at most once per classification, and only when the built-in
// table cannot resolve a type. An error (cluster down, no credentials)
// never fails the classification: the classifier carries on with built-in
// knowledge and unresolved types are unknown.
type DiscoveryFunc func(ctx context.Context, cfg clientcmd.ClientConfig, timeout time.Duration) (Mapper, error)

// Mapper is what discovery yields.
type Mapper struct {
	meta.RESTMapper
}

// LiveDiscovery is the default [DiscoveryFunc]: the API server's own
// discovery, cached in memory for this process only, behind a deferred
// discovery REST mapper and kubectl's short-name expander. Requests are
// bounded by timeout.
//
// There is deliberately no cache on disk: a discovery cache in the user's
// home (kubectl's ~/.kube/cache, or one of agentctl's) is writable by the
// agent, and an edited serverresources.json would decide what a type name
// means, and so what class a command gets.
func LiveDiscovery(ctx context.Context, cfg clientcmd.ClientConfig, timeout time.Duration) (Mapper, error) {
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
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return Mapper{}, fmt.Errorf("discovery: %w", err)
	}
	// Probe first: client-go's discovery logs through klog when the
	// server is down, and that would reach the agent's stderr.
	if _, err := dc.ServerVersion(); err != nil {
		return Mapper{}, fmt.Errorf("discovery: %w", err)
	}
	mc := memory.NewMemCacheClient(dc)
	m := restmapper.NewDeferredDiscoveryRESTMapper(mc)
	return Mapper{RESTMapper: restmapper.NewShortcutExpander(m, mc, func(string) {})}, nil
}

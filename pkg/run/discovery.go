package run

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/openapi"
	restclient "k8s.io/client-go/rest"
)

// liveDiscovery is the embedded kubectl's discovery client: the API
// server's own answers, cached in this process's memory only. Upstream
// kubectl keeps discovery in ~/.kube/cache (or --cache-dir, or
// $KUBECACHEDIR) and believes what it finds there; the agent can write
// those files, and an edited serverresources.json decides what "cm" names
// (secrets, namespaces) while agentctl classified a ConfigMap.
//
// It is built at first use, after kubectl has parsed its flags, from the
// same REST configuration kubectl would use (kubeconfig, context, server
// flags).
type liveDiscovery struct {
	once  sync.Once
	build func() (discovery.CachedDiscoveryInterface, error)
	dc    discovery.CachedDiscoveryInterface
	err   error
}

var (
	_ discovery.CachedDiscoveryInterface     = (*liveDiscovery)(nil)
	_ discovery.AggregatedDiscoveryInterface = (*liveDiscovery)(nil)
)

// newLiveDiscovery returns the discovery client for flags, with kubectl's
// discovery rate limits.
func newLiveDiscovery(flags *genericclioptions.ConfigFlags, burst int, qps float32) *liveDiscovery {
	return &liveDiscovery{build: func() (discovery.CachedDiscoveryInterface, error) {
		cfg, err := flags.ToRESTConfig()
		if err != nil {
			return nil, err
		}
		cfg = restclient.CopyConfig(cfg)
		cfg.Burst, cfg.QPS = burst, qps
		dc, err := discovery.NewDiscoveryClientForConfig(cfg)
		if err != nil {
			return nil, err
		}
		return memory.NewMemCacheClient(dc), nil
	}}
}

func (l *liveDiscovery) get() (discovery.CachedDiscoveryInterface, error) {
	l.once.Do(func() { l.dc, l.err = l.build() })
	return l.dc, l.err
}

func (l *liveDiscovery) RESTClient() restclient.Interface {
	dc, err := l.get()
	if err != nil {
		return nil
	}
	return dc.RESTClient()
}

func (l *liveDiscovery) ServerGroups() (*metav1.APIGroupList, error) {
	dc, err := l.get()
	if err != nil {
		return nil, err
	}
	return dc.ServerGroups()
}

func (l *liveDiscovery) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	dc, err := l.get()
	if err != nil {
		return nil, err
	}
	return dc.ServerResourcesForGroupVersion(gv)
}

func (l *liveDiscovery) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	dc, err := l.get()
	if err != nil {
		return nil, nil, err
	}
	return dc.ServerGroupsAndResources()
}

func (l *liveDiscovery) GroupsAndMaybeResources() (*metav1.APIGroupList, map[schema.GroupVersion]*metav1.APIResourceList, map[schema.GroupVersion]error, error) {
	dc, err := l.get()
	if err != nil {
		return nil, nil, nil, err
	}
	if ad, ok := dc.(discovery.AggregatedDiscoveryInterface); ok {
		return ad.GroupsAndMaybeResources()
	}
	groups, err := dc.ServerGroups()
	return groups, nil, nil, err
}

func (l *liveDiscovery) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	dc, err := l.get()
	if err != nil {
		return nil, err
	}
	return dc.ServerPreferredResources()
}

func (l *liveDiscovery) ServerPreferredNamespacedResources() ([]*metav1.APIResourceList, error) {
	dc, err := l.get()
	if err != nil {
		return nil, err
	}
	return dc.ServerPreferredNamespacedResources()
}

func (l *liveDiscovery) ServerVersion() (*version.Info, error) {
	dc, err := l.get()
	if err != nil {
		return nil, err
	}
	return dc.ServerVersion()
}

func (l *liveDiscovery) OpenAPISchema() (*openapi_v2.Document, error) {
	dc, err := l.get()
	if err != nil {
		return nil, err
	}
	return dc.OpenAPISchema()
}

func (l *liveDiscovery) OpenAPIV3() openapi.Client {
	dc, err := l.get()
	if err != nil {
		return failedOpenAPI{err}
	}
	return dc.OpenAPIV3()
}

func (l *liveDiscovery) WithLegacy() discovery.DiscoveryInterface {
	dc, err := l.get()
	if err != nil {
		return l
	}
	return dc.WithLegacy()
}

func (l *liveDiscovery) Fresh() bool {
	dc, err := l.get()
	return err != nil || dc.Fresh()
}

func (l *liveDiscovery) Invalidate() {
	if dc, err := l.get(); err == nil {
		dc.Invalidate()
	}
}

// failedOpenAPI is the OpenAPI client of a discovery client that could not
// be built: every call fails with why.
type failedOpenAPI struct{ err error }

func (f failedOpenAPI) Paths() (map[string]openapi.GroupVersion, error) { return nil, f.err }

// useDiscovery makes flags hand dc to kubectl as its discovery client, in
// place of the disk-cached one ConfigFlags would build. ConfigFlags has no
// setter: it keeps its discovery client in an unexported field, which is
// set here through reflection. The field's name and type are checked, so
// an upgrade of cli-runtime that changes them fails here (and in
// TestKubectlDiscoveryIsLive) rather than silently falling back to the
// disk cache.
func useDiscovery(flags *genericclioptions.ConfigFlags, dc discovery.CachedDiscoveryInterface) error {
	f := reflect.ValueOf(flags).Elem().FieldByName("discoveryClient")
	want := reflect.TypeOf((*discovery.CachedDiscoveryInterface)(nil)).Elem()
	if !f.IsValid() || f.Type() != want {
		return errors.New("cannot give kubectl its discovery client: genericclioptions.ConfigFlags has no field discoveryClient of type discovery.CachedDiscoveryInterface")
	}
	reflect.NewAt(want, unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(dc))
	got, err := flags.ToDiscoveryClient()
	if err != nil || got != dc {
		return fmt.Errorf("cannot give kubectl its discovery client: ConfigFlags still builds its own (%v)", err)
	}
	return nil
}

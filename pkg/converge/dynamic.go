package converge

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Dynamic is a [Source] reading a live cluster with a dynamic client.
type Dynamic struct {
	Client dynamic.Interface
	Mapper meta.RESTMapper
}

var _ Source = (*Dynamic)(nil)

// NewDynamic connects to the cluster of cfg; resource names are resolved
// by the cluster's discovery, on first use.
func NewDynamic(cfg *rest.Config) (*Dynamic, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Dynamic{Client: c, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

func (d *Dynamic) resource(r Ref) (schema.GroupVersionResource, bool, error) {
	if r.Resource != "" && r.Version != "" {
		// Cluster scope is told by the namespace the caller resolved.
		return schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Resource}, r.Namespace != "", nil
	}
	m, err := d.Mapper.RESTMapping(schema.GroupKind{Group: r.Group, Kind: r.Kind}, r.Version)
	if err != nil {
		return schema.GroupVersionResource{}, false, fmt.Errorf("cannot resolve %s: %w", r.Kind, err)
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// Get implements [Source].
func (d *Dynamic) Get(ctx context.Context, r Ref) (*unstructured.Unstructured, error) {
	gvr, namespaced, err := d.resource(r)
	if err != nil {
		return nil, err
	}
	var ri dynamic.ResourceInterface = d.Client.Resource(gvr)
	if namespaced {
		ri = d.Client.Resource(gvr).Namespace(r.Namespace)
	}
	u, err := ri.Get(ctx, r.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

// ownedTypes are the types searched for dependents: what the built-in
// controllers create in a namespace.
var ownedTypes = []schema.GroupVersionResource{
	{Group: "apps", Version: "v1", Resource: "replicasets"},
	{Group: "apps", Version: "v1", Resource: "controllerrevisions"},
	{Group: "batch", Version: "v1", Resource: "jobs"},
	{Version: "v1", Resource: "pods"},
}

// Owned implements [Source].
func (d *Dynamic) Owned(ctx context.Context, namespace string, uids []string) ([]*unstructured.Unstructured, error) {
	if namespace == "" {
		return nil, nil
	}
	var all []*unstructured.Unstructured
	for _, gvr := range ownedTypes {
		l, err := d.Client.Resource(gvr).Namespace(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			all = append(all, &l.Items[i])
		}
	}
	return closure(all, uids), nil
}

// closure returns the objects of all owned by one of uids, transitively.
func closure(all []*unstructured.Unstructured, uids []string) []*unstructured.Unstructured {
	owners := map[string]bool{}
	for _, u := range uids {
		owners[u] = true
	}
	in := map[*unstructured.Unstructured]bool{}
	for grew := true; grew; {
		grew = false
		for _, o := range all {
			if in[o] {
				continue
			}
			for _, ref := range o.GetOwnerReferences() {
				if owners[string(ref.UID)] {
					in[o], grew = true, true
					owners[string(o.GetUID())] = true
					break
				}
			}
		}
	}
	var out []*unstructured.Unstructured
	for _, o := range all {
		if in[o] {
			out = append(out, o)
		}
	}
	return out
}

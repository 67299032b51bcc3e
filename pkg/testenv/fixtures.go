package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the field manager of objects that [Cluster.Apply] applies.
const FieldManager = "agentctl-testenv"

var notDNS = regexp.MustCompile(`[^a-z0-9]+`)

// NewNamespace creates a namespace named after t (plus a random suffix) and
// deletes it when t ends. Without a controller-manager nothing empties a
// deleted namespace, so the deletion also finalizes it: the namespace is
// gone, the objects left in it stay in etcd unseen by namespaced requests.
// In a converging cluster the namespace controller empties and removes it
// after the test, as in a real cluster.
func (c *Cluster) NewNamespace(t testing.TB) string {
	t.Helper()
	prefix := strings.Trim(notDNS.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(prefix) > 40 {
		prefix = strings.TrimRight(prefix[:40], "-")
	}
	cs := c.AdminClient(t)
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "t-" + prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete namespace %q: %v", ns.Name, err)
			return
		}
		if c.converging {
			return
		}
		got, err := cs.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
		if err != nil {
			return // already gone
		}
		got.Spec.Finalizers = nil
		if _, err := cs.CoreV1().Namespaces().Finalize(ctx, got, metav1.UpdateOptions{}); err != nil {
			t.Errorf("finalize namespace %q: %v", ns.Name, err)
		}
	})
	return ns.Name
}

// Apply server-side applies every object of the YAML (or JSON) manifest as
// [UserAdmin] and returns them as the server stored them. Namespaced objects
// without a namespace go to namespace ("default" if empty). Apply waits
// until an applied CustomResourceDefinition is established and served by
// discovery, so a later document (or command) may use it.
func (c *Cluster) Apply(t testing.TB, namespace, manifest string) []*unstructured.Unstructured {
	t.Helper()
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	cfg := c.RESTConfig(UserAdmin)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("dynamic client: %v", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatalf("discovery client: %v", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	ctx := context.Background()

	var applied []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(manifest)), 4096)
	for {
		obj := &unstructured.Unstructured{}
		if err := dec.Decode(&obj.Object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("apply: decode manifest: %v", err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		gvk := obj.GroupVersionKind()
		var mapping *meta.RESTMapping
		// A kind that a CRD of this manifest just added may take a moment.
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			mapping, err = mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if meta.IsNoMatchError(err) {
				mapper.Reset()
				return false, nil
			}
			return err == nil, err
		})
		if err != nil {
			t.Fatalf("apply: map %s: %v", gvk, err)
		}
		res := dyn.Resource(mapping.Resource)
		var ri dynamic.ResourceInterface = res
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			if obj.GetNamespace() == "" {
				obj.SetNamespace(namespace)
			}
			ri = res.Namespace(obj.GetNamespace())
		}
		out, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
		if err != nil {
			t.Fatalf("apply %s %q: %v", gvk.Kind, obj.GetName(), err)
		}
		if gvk.Group == "apiextensions.k8s.io" && gvk.Kind == "CustomResourceDefinition" {
			c.waitCRD(t, dyn, disc, out)
		}
		applied = append(applied, out)
	}
	return applied
}

// waitCRD waits until crd is Established and its resource is in discovery.
func (c *Cluster) waitCRD(t testing.TB, dyn dynamic.Interface, disc discovery.DiscoveryInterface, crd *unstructured.Unstructured) {
	t.Helper()
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var served []string
	for _, v := range versions {
		m, _ := v.(map[string]any)
		if ok, _ := m["served"].(bool); ok {
			served = append(served, fmt.Sprint(m["name"]))
		}
	}
	gvr := crd.GroupVersionKind().GroupVersion().WithResource("customresourcedefinitions")
	ctx := context.Background()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := dyn.Resource(gvr).Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		established := slices.ContainsFunc(conds, func(c any) bool {
			m, _ := c.(map[string]any)
			return m["type"] == "Established" && m["status"] == "True"
		})
		if !established {
			return false, nil
		}
		for _, v := range served {
			list, err := disc.ServerResourcesForGroupVersion(group + "/" + v)
			if err != nil {
				return false, nil
			}
			if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == plural }) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("wait for CustomResourceDefinition %q: %v", crd.GetName(), err)
	}
}

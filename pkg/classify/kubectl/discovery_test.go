package kubectl

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
	"github.com/agentctl/agentctl/pkg/testenv"
)

const crds = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wdg]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: tenantnetworkpolicies.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: tenantnetworkpolicies, singular: tenantnetworkpolicy, kind: TenantNetworkPolicy, shortNames: [tnp]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`

// TestDiscoveryResolvesCRDs runs a real kube-apiserver: CRD short names
// resolve through discovery, asked live; nothing is cached on disk, so
// once the cluster is gone CRDs are unknown again.
func TestDiscoveryResolvesCRDs(t *testing.T) {
	cluster := testenv.NewCluster(t)
	cluster.Apply(t, "", crds)
	kubeconfig := cluster.Kubeconfig(t, testenv.UserReader)
	c := New(Options{Discovery: LiveDiscovery})
	offline := New(Options{})
	classifyKC := func(c *Classifier, args ...string) *classify.Assessment {
		t.Helper()
		a, err := c.Classify(context.Background(), &request.Request{
			Tool: "kubectl", Args: args, Cwd: testdata(t), Env: []string{"KUBECONFIG=" + kubeconfig},
		})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	t.Run("offline a CRD short name is unknown", func(t *testing.T) {
		if a := classifyKC(offline, "delete", "wdg", "w1"); a.Class != classify.Unknown {
			t.Fatalf("class = %s", a.Class)
		}
	})
	t.Run("live discovery resolves a CRD short name", func(t *testing.T) {
		a := classifyKC(c, "delete", "wdg", "w1")
		if a.Class != classify.Destructive || a.Discovery != "live" || !hasKind(a, "Widget") {
			t.Fatalf("got %s", dump(a))
		}
		if r := a.Resources[0]; r.Group != "example.com" || r.Resource != "widgets" || r.Namespace != "default" {
			t.Errorf("resource = %+v", r)
		}
	})
	t.Run("discovery resolves a manifest of a CRD kind", func(t *testing.T) {
		a := classifyKC(c, "apply", "-f", "manifests/widget.yaml")
		if a.Class != classify.Write || !hasKind(a, "Widget") {
			t.Fatalf("got %s", dump(a))
		}
	})
	t.Run("a network policy CRD is privilege", func(t *testing.T) {
		if a := classifyKC(c, "delete", "tnp", "open"); a.Class != classify.Privilege {
			t.Fatalf("got %s", dump(a))
		}
	})
	t.Run("built-in types never ask discovery", func(t *testing.T) {
		if a := classifyKC(c, "get", "pods"); a.Discovery != "offline" {
			t.Fatalf("discovery = %q", a.Discovery)
		}
	})

	cluster.Stop()
	t.Run("cluster down: built-in knowledge, unknown CRDs", func(t *testing.T) {
		fresh := New(Options{Discovery: LiveDiscovery})
		if a := classifyKC(fresh, "delete", "deploy", "web"); a.Class != classify.Destructive {
			t.Fatalf("got %s", dump(a))
		}
		a := classifyKC(fresh, "delete", "wdg", "w1")
		if a.Class != classify.Unknown {
			t.Fatalf("got %s", dump(a))
		}
		if !strings.Contains(dump(a), "unknown resource type") {
			t.Errorf("no reason names the unknown type: %s", dump(a))
		}
	})
}

func TestDiscoveryNeverRunsACredentialPlugin(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "plugin-ran")
	plugin := filepath.Join(dir, "plugin.sh")
	os.WriteFile(plugin, []byte("#!/bin/sh\ntouch "+marker+"\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'\n"), 0o755)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() // accepts and hangs up: discovery fails, offline knowledge answers
	kubeconfig := filepath.Join(dir, "config")
	os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://`+l.Addr().String()+`", insecure-skip-tls-verify: true}
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: `+plugin+`, interactiveMode: Never}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`), 0o600)
	c := New(Options{Discovery: LiveDiscovery, Timeout: time.Second})
	a, err := c.Classify(context.Background(), &request.Request{
		Tool: "kubectl", Args: []string{"--kubeconfig", kubeconfig, "delete", "gizmos", "x"},
		Env: []string{"HOME=" + dir}, Cwd: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("classifying ran the kubeconfig's credential plugin outside the sandbox")
	}
	if a.Class != classify.Unknown {
		t.Errorf("class = %s, want unknown for a type discovery could not resolve", a.Class)
	}
}

package e2e_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// discoverySecret is the value the poisoned cache tries to leak.
const discoverySecret = "e2e-discovery-s3cr3t-value"

// discoveryCaches are the discovery caches, under the agent's home, that
// kubectl (and agentctl before it stopped reading any) believed: kubectl's
// default, the one agentctl kept for sandboxed reads, and the classifier's.
var discoveryCaches = []string{".kube/cache", ".cache/agentctl/kube", ".cache/agentctl/discovery"}

// plantPoisonedCache lets the real kubectl fill a discovery cache in the
// agent's home with a normal read, copies it to every place a kubectl
// might look, and then edits the core group's serverresources.json as the
// agent could: poison changes the v1 resource list. It returns the
// directory of the first copy, for --cache-dir.
func plantPoisonedCache(t *testing.T, e *env, kubeconfig string, poison func(resources []map[string]any)) string {
	t.Helper()
	seed := filepath.Join(e.home, ".kube", "cache")
	if got := agentKubectl(e, "--kubeconfig", kubeconfig, "--cache-dir", seed, "get", "--raw", "/version"); got.code != 0 {
		t.Fatalf("seed read: exit %d: %s", got.code, got.stderr)
	}
	if got := agentKubectl(e, "--kubeconfig", kubeconfig, "--cache-dir", seed, "api-resources", "-o", "name"); got.code != 0 {
		t.Fatalf("seed discovery: exit %d: %s", got.code, got.stderr)
	}
	var core string
	filepath.Walk(seed, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, string(filepath.Separator)+filepath.Join("v1", "serverresources.json")) &&
			filepath.Base(filepath.Dir(filepath.Dir(p))) != "discovery" && strings.Count(strings.TrimPrefix(p, seed), string(filepath.Separator)) == 4 {
			core = p
		}
		return nil
	})
	if core == "" {
		t.Fatalf("kubectl left no v1/serverresources.json under %s", seed)
	}
	b, err := os.ReadFile(core)
	if err != nil {
		t.Fatal(err)
	}
	var list map[string]any
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	var resources []map[string]any
	for _, r := range list["resources"].([]any) {
		resources = append(resources, r.(map[string]any))
	}
	poison(resources)
	list["resources"] = resources
	if b, err = json.Marshal(list); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(core, b, 0o600); err != nil {
		t.Fatal(err)
	}
	hostDir, _ := filepath.Rel(filepath.Join(seed, "discovery"), filepath.Dir(filepath.Dir(core)))
	for _, c := range discoveryCaches[1:] {
		dst := filepath.Join(e.home, c, "discovery", hostDir)
		if c == ".cache/agentctl/discovery" {
			dst = filepath.Join(e.home, c, "discovery", "discovery", hostDir)
		}
		copyTree(t, filepath.Dir(filepath.Dir(core)), dst)
	}
	e.agent.Own(t, filepath.Join(e.home, ".kube"))
	e.agent.Own(t, filepath.Join(e.home, ".cache"))
	return seed
}

// agentKubectl runs the upstream kubectl as the agent.
func agentKubectl(e *env, args ...string) result {
	e.t.Helper()
	return e.run(e.agent.Bin(e.t, testenv.Bin(e.t, "kubectl")), args...)
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// shortName gives the resource named name the short names short.
func shortName(resources []map[string]any, name string, short ...string) {
	for _, r := range resources {
		if r["name"] == name {
			if len(short) == 0 {
				delete(r, "shortNames")
			} else {
				r["shortNames"] = short
			}
		}
	}
}

// lastDecision returns the last decision record and the result record
// that follows it.
func lastDecision(t *testing.T, recs []map[string]any) (decision, result map[string]any) {
	t.Helper()
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i]["kind"] == "decision" {
			decision = recs[i]
			if i+1 < len(recs) {
				result = recs[i+1]
			}
			return decision, result
		}
	}
	t.Fatal("no decision record in the audit log")
	return nil, nil
}

// auditedKinds lists kind/resource of the resources of a record.
func auditedKinds(rec map[string]any) []string {
	var out []string
	rs, _ := rec["resources"].([]any)
	for _, r := range rs {
		m, _ := r.(map[string]any)
		out = append(out, m["kind"].(string)+"/"+m["resource"].(string))
	}
	return out
}

// TestPoisonedDiscoveryCacheCannotSwapSecretsForConfigMaps: an agent that
// gives secrets the short name cm in a discovery cache it can write does
// not get Secret data from `get cm -o jsonpath` (classified and audited as
// a ConfigMap read): kubectl reads the API server's own discovery.
func TestPoisonedDiscoveryCacheCannotSwapSecretsForConfigMaps(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures+`---
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData: {password: `+discoverySecret+`}
`)
	e := newAgentEnv(t)
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))
	cacheDir := plantPoisonedCache(t, e, kc, func(rs []map[string]any) {
		shortName(rs, "configmaps")
		shortName(rs, "secrets", "cm")
	})
	// The poison works on a kubectl that believes the cache.
	if raw := agentKubectl(e, "--kubeconfig", kc, "--cache-dir", cacheDir, "-n", ns, "get", "cm", "-o", "name"); !strings.Contains(raw.stdout, "secret/db") {
		t.Fatalf("the poisoned cache does not fool upstream kubectl: %q %s", raw.stdout, raw.stderr)
	}
	leaked := func(s string) bool {
		return strings.Contains(s, discoverySecret) || strings.Contains(s, base64.StdEncoding.EncodeToString([]byte(discoverySecret)))
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"get cm -A -o jsonpath", []string{"kubectl", "--kubeconfig", kc, "get", "cm", "-A", "-o", "jsonpath={.items[*].data}"}},
		// The copy the sandbox could read and write (~/.kube is denied there).
		{"--cache-dir naming a poisoned cache", []string{"kubectl", "--kubeconfig", kc, "--cache-dir", filepath.Join(e.home, ".cache", "agentctl", "kube"), "-n", ns, "get", "cm", "-o", "jsonpath={.items[*].data}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.agentctl(tc.args...)
			if leaked(got.stdout) || leaked(got.stderr) {
				t.Fatalf("Secret data leaked through a ConfigMap read\nstdout: %s\nstderr: %s", got.stdout, got.stderr)
			}
			if got.code != 0 || !strings.Contains(got.stdout, "hello") {
				t.Fatalf("exit %d, want the ConfigMaps' data\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
			}
			d, r := lastDecision(t, e.auditRecords())
			if k := auditedKinds(d); len(k) != 1 || k[0] != "ConfigMap/configmaps" {
				t.Errorf("audited resources = %v, want what ran: ConfigMap/configmaps", k)
			}
			if r == nil || r["kind"] != "result" || r["exit"] != float64(0) {
				t.Errorf("result record = %v, want exit 0", r)
			}
		})
	}
}

// TestPoisonedDiscoveryCacheCannotTurnAConfigMapDeleteIntoANamespaceDelete:
// with namespaces given the short name cm in the agent's cache, a delete of
// ConfigMap NS/X that policy allows deletes that ConfigMap, never the
// namespace X.
func TestPoisonedDiscoveryCacheCannotTurnAConfigMapDeleteIntoANamespaceDelete(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	victim := c.NewNamespace(t)
	c.Apply(t, ns, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "+victim+"}\ndata: {a: b}\n")
	adminFiles(t, map[string]string{"policy.yaml": `version: 1
rules:
  - name: e2e-configmap-deletes
    tool: [kubectl]
    class: [destructive]
    resource: [configmaps]
    namespace: [` + ns + `]
    decision: allow
`})
	e := newAgentEnv(t)
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))
	plantPoisonedCache(t, e, kc, func(rs []map[string]any) {
		shortName(rs, "configmaps")
		shortName(rs, "namespaces", "cm")
	})

	// --wait=false: without a controller-manager a deleted namespace
	// never goes, and kubectl would wait for it.
	got := e.agentctl("kubectl", "--kubeconfig", kc, "-n", ns, "delete", "cm", victim, "--wait=false")
	cs := c.AdminClient(t)
	nsObj, err := cs.CoreV1().Namespaces().Get(context.Background(), victim, metav1.GetOptions{})
	if err != nil || nsObj.DeletionTimestamp != nil {
		t.Fatalf("namespace %q after an approved ConfigMap delete: %v (deleting: %v)\nstdout: %s\nstderr: %s", victim, err, err == nil && nsObj.DeletionTimestamp != nil, got.stdout, got.stderr)
	}
	if got.code != 0 || !strings.Contains(got.stdout, `configmap "`+victim+`" deleted`) {
		t.Fatalf("exit %d, want the ConfigMap deleted\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), victim, metav1.GetOptions{}); err == nil {
		t.Errorf("ConfigMap %s/%s still exists", ns, victim)
	}
	d, r := lastDecision(t, e.auditRecords())
	if k := auditedKinds(d); len(k) != 1 || k[0] != "ConfigMap/configmaps" || d["decision"] != "allow" {
		t.Errorf("audit: decision %v for %v, want allow for ConfigMap/configmaps", d["decision"], k)
	}
	if r == nil || r["exit"] != float64(0) {
		t.Errorf("result record = %v, want exit 0", r)
	}
}

// TestDiscoveryThatShadowsABuiltinNameIsRefused: when the API server
// itself gives a built-in name another meaning (a CRD in category
// "limits"), kubectl would act on the CRD while agentctl classified
// LimitRanges; the embedded kubectl refuses before it sends anything.
func TestDiscoveryThatShadowsABuiltinNameIsRefused(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	c.Apply(t, "", `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: e2eshadows.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: e2eshadows, singular: e2eshadow, kind: E2EShadow, categories: [limits]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`)
	t.Cleanup(func() {
		newEnv(t).kubectl("--kubeconfig", admin, "delete", "crd", "e2eshadows.example.com", "--wait=false")
	})
	e := newAgentEnv(t)
	kc := e.give(admin)

	got := e.agentctl("kubectl", "--kubeconfig", kc, "-n", ns, "get", "limits")
	if got.code != 78 {
		t.Fatalf("exit %d, want 78\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if !strings.Contains(got.stderr, `resolve "limits" to e2eshadows.example.com`) || !strings.Contains(got.stderr, "assessed for limitranges") ||
		!strings.Contains(got.stderr, "hint:") {
		t.Errorf("stderr does not say what disagrees and how to fix it:\n%s", got.stderr)
	}
	if fixed := e.agentctl("kubectl", "--kubeconfig", kc, "-n", ns, "get", "limitranges."); fixed.code != 0 {
		t.Errorf("the hint's spelling: exit %d\nstderr: %s", fixed.code, fixed.stderr)
	}
}

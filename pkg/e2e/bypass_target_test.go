package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// connRecorder is a TCP listener on 127.0.0.1 that records the
// connections made to it.
type connRecorder struct {
	ln       net.Listener
	accepted chan string // remote addresses, in the order accepted
}

func newConnRecorder(t *testing.T) *connRecorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &connRecorder{ln: ln, accepted: make(chan string, 1024)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.accepted <- c.RemoteAddr().String()
			c.Close()
		}
	}()
	return r
}

func (r *connRecorder) port() string { return strconv.Itoa(r.ln.Addr().(*net.TCPAddr).Port) }

// count returns how many connections were made before it was called:
// it connects once itself and reads what the listener accepted up to that
// connection; every earlier one was accepted before it.
func (r *connRecorder) count(t *testing.T) int {
	t.Helper()
	c, err := net.Dial("tcp", r.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	self, n := c.LocalAddr().String(), 0
	for addr := range r.accepted {
		if addr == self {
			return n
		}
		n++
	}
	return n
}

// TestServerURLTricksAreRefused runs sandboxed reads, as an ordinary
// user, whose API server URL (on --server or in the kubeconfig) is read
// differently by different readers: https://API@127.0.0.1:PORT dials PORT,
// not API; 127.1 and 0x7f.1 are 127.0.0.1 to the resolver. Each is refused
// (exit 77, the value quoted, a hint), audited, and nothing connects to the
// port the URL really names.
func TestServerURLTricksAreRefused(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	rec := newConnRecorder(t)
	port := rec.port()
	api := strings.TrimPrefix(c.Server(), "https://") // 127.0.0.1:APIPORT
	e := newAgentEnv(t)
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))

	withServer := func(t *testing.T, server, proxy string) string {
		cfg, err := clientcmd.LoadFromFile(c.Kubeconfig(t, testenv.UserAdmin))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Clusters[testenv.ClusterName].Server = server
		cfg.Clusters[testenv.ClusterName].ProxyURL = proxy
		p := filepath.Join(t.TempDir(), "kubeconfig")
		if err := clientcmd.WriteToFile(*cfg, p); err != nil {
			t.Fatal(err)
		}
		return e.give(p)
	}
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
		want string
	}{
		{"--server with userinfo", func(*testing.T) []string {
			return []string{"--kubeconfig", kc, "--server", "https://" + api + "@127.0.0.1:" + port}
		}, "user information"},
		{"--server= with userinfo", func(*testing.T) []string {
			return []string{"--kubeconfig", kc, "--server=https://" + api + "@127.0.0.1:" + port}
		}, "user information"},
		{"-s with a short IPv4", func(*testing.T) []string { return []string{"--kubeconfig", kc, "-s", "https://127.1:" + port} }, "IPv4"},
		{"--server with a hex IPv4", func(*testing.T) []string { return []string{"--kubeconfig", kc, "--server", "https://0x7f.1:" + port} }, "IPv4"},
		{"--server with an integer IPv4", func(*testing.T) []string {
			return []string{"--kubeconfig", kc, "--server", "https://2130706433:" + port}
		}, "IPv4"},
		{"--server with a zero-padded port", func(*testing.T) []string {
			return []string{"--kubeconfig", kc, "--server", "https://127.0.0.1:0" + port}
		}, "leading zero"},
		{"--server with an IPv4-mapped IPv6", func(*testing.T) []string {
			return []string{"--kubeconfig", kc, "--server", "https://[::ffff:127.0.0.1]:" + port}
		}, "plain IPv6"},
		{"--server without a scheme", func(*testing.T) []string { return []string{"--kubeconfig", kc, "--server", "127.0.0.1:" + port} }, "no scheme"},
		{"--server with a backslash", func(*testing.T) []string {
			return []string{"--kubeconfig", kc, "--server", `https://` + api + `\@127.0.0.1:` + port}
		}, "backslash"},
		{"kubeconfig server with userinfo", func(t *testing.T) []string {
			return []string{"--kubeconfig", withServer(t, "https://"+api+"@127.0.0.1:"+port, "")}
		}, "user information"},
		{"kubeconfig proxy-url", func(t *testing.T) []string {
			return []string{"--kubeconfig", withServer(t, c.Server(), "http://127.0.0.1:"+port)}
		}, "proxy-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"kubectl"}, append(tc.args(t), "-n", ns, "get", "pods")...)
			got := e.agentctl(args...)
			if got.code != exitDenied || !strings.Contains(got.stderr, tc.want) || !strings.Contains(got.stderr, "hint: ") {
				t.Fatalf("exit %d, want %d with an error saying %q and a hint\nstderr: %s", got.code, exitDenied, tc.want, got.stderr)
			}
			if lines := strings.Split(strings.TrimSpace(got.stderr), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "hint: ") {
				t.Errorf("want one error line and one hint line, got:\n%s", got.stderr)
			}
			if strings.Contains(got.stdout, "web-0") {
				t.Errorf("the read ran: %s", got.stdout)
			}
			recs := e.auditRecords()
			last := recs[len(recs)-1]
			if last["decision"] != "deny" || last["rule"] != "agentctl:unassessable" || !strings.Contains(fmt.Sprint(last["reason"]), tc.want) {
				t.Errorf("last audit record: decision %v by %v (%v), want a deny by agentctl:unassessable", last["decision"], last["rule"], last["reason"])
			}
		})
	}
	if n := rec.count(t); n != 0 {
		t.Errorf("%d connection(s) reached 127.0.0.1:%s, the port the refused URLs dial", n, port)
	}
}

// TestEnvironmentIsTheServerNotItsName plays an agent that renames its
// kubeconfig's context and cluster to the names of a dev cluster whose
// deletes the root-owned policy allows. The environment is bound to dev's
// server and CA, so the renamed cluster is not dev: a delete from CI is
// refused (77) and the object stays. Bound to the test cluster's own
// server and CA, the same policy lets the delete run.
func TestEnvironmentIsTheServerNotItsName(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newAgentEnv(t)

	// The agent's kubeconfig, with the cluster and context renamed.
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig(t, testenv.UserAdmin))
	if err != nil {
		t.Fatal(err)
	}
	cl := cfg.Clusters[testenv.ClusterName]
	delete(cfg.Clusters, testenv.ClusterName)
	cfg.Clusters["kind-dev"] = cl
	ctx := cfg.Contexts[cfg.CurrentContext]
	delete(cfg.Contexts, cfg.CurrentContext)
	ctx.Cluster = "kind-dev"
	cfg.Contexts["kind-dev"] = ctx
	cfg.CurrentContext = "kind-dev"
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	kc := e.give(p)

	block, _ := pem.Decode(c.CAData())
	sum := sha256.Sum256(block.Bytes)
	realCA := hex.EncodeToString(sum[:])
	otherCA := strings.Repeat("ab", 32)
	policy := func(url, ca string) string {
		return fmt.Sprintf(`
environments:
  - name: dev
    servers:
      - {url: %q, caSHA256: %q}
  - {name: dev, context: "kind-dev*"}
  - {name: dev, cluster: "kind-dev*"}
rules:
  - {name: dev-deletes-allowed, env: dev, class: destructive, decision: allow}
`, url, ca)
	}
	exists := func(name string) bool {
		_, err := c.AdminClient(t).CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}

	for _, tc := range []struct {
		name, url, ca string
	}{
		{"dev is another server", "https://dev.k8s.example.com:6443", realCA},
		{"dev is this URL with another CA", c.Server(), otherCA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			adminFiles(t, map[string]string{"policy.yaml": policy(tc.url, tc.ca)})
			got := e.agentctl("--output", "json", "kubectl", "--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config")
			if !exists("app-config") {
				t.Fatal("the renamed cluster was taken for dev: app-config was deleted")
			}
			if got.code != exitDenied {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", got.code, exitDenied, got.stdout, got.stderr)
			}
			recs := e.auditRecords()
			last := recs[len(recs)-1]
			if target, _ := last["target"].(map[string]any); target["env"] != "unknown" || target["context"] != "kind-dev" {
				t.Errorf("audited target %v, want context kind-dev in env unknown", last["target"])
			}
		})
	}

	t.Run("a name-only dev that loosens is refused", func(t *testing.T) {
		adminFiles(t, map[string]string{"policy.yaml": `
environments:
  - {name: dev, context: "kind-dev*"}
rules:
  - {name: dev-deletes-allowed, env: dev, class: destructive, decision: allow}
`})
		got := e.agentctl("kubectl", "--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config")
		if got.code != 78 || !strings.Contains(got.stderr, "bind the environment to the API server") {
			t.Errorf("exit %d, want %d with a hint to bind the environment\nstderr: %s", got.code, 78, got.stderr)
		}
		if !exists("app-config") {
			t.Fatal("app-config was deleted")
		}
	})

	t.Run("dev bound to this server and CA allows the delete", func(t *testing.T) {
		adminFiles(t, map[string]string{"policy.yaml": policy(c.Server(), realCA)})
		got := e.agentctl("kubectl", "--kubeconfig", kc, "-n", ns, "delete", "cm", "app-config")
		if got.code != 0 {
			t.Fatalf("exit %d, want 0\nstderr: %s", got.code, got.stderr)
		}
		if exists("app-config") {
			t.Error("app-config is still there")
		}
		recs := e.auditRecords()
		for _, r := range recs {
			if r["kind"] == "decision" && r["decision"] == "allow" {
				if target, _ := r["target"].(map[string]any); target["env"] != "dev" {
					t.Errorf("audited target %v, want env dev", r["target"])
				}
			}
		}
	})
}

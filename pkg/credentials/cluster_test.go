package credentials

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/credentials/vaulttest"
	"github.com/agentctl/agentctl/pkg/redact"
	"github.com/agentctl/agentctl/pkg/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

// bootstrap applies the bootstrap RBAC in a fresh namespace, binding the
// test cluster's reader, deployer and broker users to the identities.
func bootstrap(t testing.TB) (*testenv.Cluster, string, string) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	prefix := "agentctl-" + ns
	y, err := KubernetesRBAC(RBACOptions{Namespace: ns, Prefix: prefix,
		ReadUsers: []string{testenv.UserReader}, DeployUsers: []string{testenv.UserDeployer}, BrokerUsers: []string{testenv.UserBroker}})
	if err != nil {
		t.Fatal(err)
	}
	c.Apply(t, ns, string(y))
	return c, ns, prefix
}

func TestBootstrapRBAC(t *testing.T) {
	c, ns, prefix := bootstrap(t)
	admin := c.AdminClient(t)
	tests := []struct {
		name                         string
		user                         string
		verb, resource, sub, objName string
		allowed                      bool
	}{
		{"read lists pods", testenv.UserReader, "list", "pods", "", "", true},
		{"read gets deployments", testenv.UserReader, "get", "deployments", "", "", true},
		{"read cannot get secrets", testenv.UserReader, "get", "secrets", "", "", false},
		{"read cannot list secrets", testenv.UserReader, "list", "secrets", "", "", false},
		{"read cannot exec", testenv.UserReader, "create", "pods", "exec", "", false},
		{"read cannot exec over websocket (get)", testenv.UserReader, "get", "pods", "exec", "", false},
		{"read cannot attach", testenv.UserReader, "create", "pods", "attach", "", false},
		{"read cannot port-forward", testenv.UserReader, "create", "pods", "portforward", "", false},
		{"read cannot proxy to pods", testenv.UserReader, "get", "pods", "proxy", "", false},
		{"read cannot proxy to services", testenv.UserReader, "get", "services", "proxy", "", false},
		{"read cannot mint tokens", testenv.UserReader, "create", "serviceaccounts", "token", prefix + "-deploy", false},
		{"read cannot write", testenv.UserReader, "patch", "deployments", "", "", false},
		{"deploy patches deployments", testenv.UserDeployer, "patch", "deployments", "", "", true},
		{"deploy cannot read secrets", testenv.UserDeployer, "get", "secrets", "", "", false},
		{"deploy cannot change rbac", testenv.UserDeployer, "create", "rolebindings", "", "", false},
		{"broker mints for the deploy account", testenv.UserBroker, "create", "serviceaccounts", "token", prefix + "-deploy", true},
		{"broker cannot mint for the read account", testenv.UserBroker, "create", "serviceaccounts", "token", prefix + "-read", false},
		{"broker cannot read pods", testenv.UserBroker, "list", "pods", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			group := ""
			switch tt.resource {
			case "deployments":
				group = "apps"
			case "rolebindings":
				group = "rbac.authorization.k8s.io"
			}
			sar, err := admin.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), &authzv1.SubjectAccessReview{
				Spec: authzv1.SubjectAccessReviewSpec{User: tt.user, ResourceAttributes: &authzv1.ResourceAttributes{
					Namespace: ns, Verb: tt.verb, Group: group, Resource: tt.resource, Subresource: tt.sub, Name: tt.objName}},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sar.Status.Allowed != tt.allowed {
				t.Errorf("allowed = %v, want %v (%s)", sar.Status.Allowed, tt.allowed, sar.Status.Reason)
			}
		})
	}
	// And with real requests.
	if _, err := c.Client(t, testenv.UserReader).CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("reader listing secrets: %v, want forbidden", err)
	}
	ttl := int64(600)
	_, err := c.Client(t, testenv.UserBroker).CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), prefix+"-read",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &ttl}}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("broker minting a read token: %v, want forbidden", err)
	}
}

func TestKubernetesTokenIdentity(t *testing.T) {
	c, ns, prefix := bootstrap(t)
	dir := t.TempDir()
	y := "targets:\n- name: test\n  match: {context: testenv-*}\n" +
		"  read:\n    kubeconfig: {path: " + c.Kubeconfig(t, testenv.UserReader) + "}\n" +
		"  deploy:\n    kubernetes-token:\n      serviceAccount: " + ns + "/" + prefix + "-deploy\n      ttl: 10m\n" +
		"      broker: {path: " + c.Kubeconfig(t, testenv.UserBroker) + "}\n"
	cfg, err := Parse(filepath.Join(dir, "config.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBroker(cfg)
	target := classify.Target{Context: "testenv-prod", Namespace: ns}
	before := time.Now()
	cred, err := b.Acquire(context.Background(), target, Deploy)
	if err != nil {
		t.Fatal(err)
	}
	defer cred.Release(context.Background())

	// It expires as set: the API server's expiration and the token's own claims.
	if d := cred.Expires.Sub(before); d < 9*time.Minute || d > 11*time.Minute {
		t.Errorf("expires in %s, want 10m", d)
	}
	if d := jwtLifetime(t, cred.Secrets()[0]); d != 10*time.Minute {
		t.Errorf("token lifetime (exp-iat) %s, want 10m", d)
	}
	// The files are private.
	if st, err := os.Stat(cred.Dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("credential dir: %v %v", st.Mode(), err)
	}
	if st, err := os.Stat(cred.Kubeconfig); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig: %v %v", st.Mode(), err)
	}

	// An approved kubectl apply runs with the token; its output, redacted,
	// holds no credential.
	kubectl := testenv.Bin(t, "kubectl")
	env := cred.Environ(ChildEnv(os.Environ(), nil))
	manifest := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n"
	out := runKubectl(t, kubectl, env, manifest, "--context", "testenv-prod", "apply", "-f", "-", "-v=9")
	if !strings.Contains(out.stdout, "configmap/applied created") {
		t.Fatalf("apply: %s%s", out.stdout, out.stderr)
	}
	r := redact.New(redact.Options{Exact: cred.Secrets()})
	for _, s := range []string{r.String(out.stdout), r.String(out.stderr)} {
		if strings.Contains(s, cred.Secrets()[0]) {
			t.Fatal("the token reached the agent's output")
		}
	}
	// The deploy token cannot read secrets.
	if out := runKubectl(t, kubectl, env, "", "get", "secrets"); !strings.Contains(out.stderr, "Forbidden") {
		t.Errorf("deploy token reading secrets: %s%s", out.stdout, out.stderr)
	}
	// The read identity cannot read secrets either, even if policy allowed it.
	rc, err := b.Acquire(context.Background(), target, Read)
	if err != nil {
		t.Fatal(err)
	}
	if out := runKubectl(t, kubectl, rc.Environ(ChildEnv(os.Environ(), nil)), "", "get", "secrets"); !strings.Contains(out.stderr, "Forbidden") {
		t.Errorf("read identity reading secrets: %s%s", out.stdout, out.stderr)
	}
	_ = rc.Release(context.Background())

	if err := cred.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cred.Dir); !os.IsNotExist(err) {
		t.Errorf("credential dir left behind: %v", err)
	}
}

func TestVaultKubernetesIdentity(t *testing.T) {
	c, ns, prefix := bootstrap(t)
	s := deployVault(t, c, ns, prefix)
	dir := t.TempDir()
	y := "vault:\n  address: " + s.URL + "\n  auth:\n    approle: {roleID: agentctl, secretID: approle-secret-id-1234}\n" +
		"targets:\n- name: test\n  match: {context: lab}\n  deploy:\n    vault-kubernetes: {role: deploy, namespace: " + ns + ", ttl: 10m, cluster: {path: " + c.Kubeconfig(t, testenv.UserReader) + "}}\n" +
		"- name: other-ns\n  match: {context: other}\n  deploy:\n    vault-kubernetes: {role: deploy, namespace: kube-system, cluster: {path: " + c.Kubeconfig(t, testenv.UserReader) + "}}\n"
	cfg, err := Parse(filepath.Join(dir, "config.yaml"), []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	b := NewBroker(cfg)
	cred, err := b.Acquire(context.Background(), classify.Target{Context: "lab", Namespace: ns}, Deploy)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := clientcmd.BuildConfigFromFlags("", cred.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(kc)
	if _, err := cs.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Fatalf("the Vault-issued token does not work: %v", err)
	}
	if !strings.Contains(cred.Audit().Identity, "vault-kubernetes kubernetes/deploy") || len(cred.Audit().Leases) != 1 {
		t.Errorf("audit %+v", cred.Audit())
	}
	raw, _ := json.Marshal(cred.Audit())
	if bytes.Contains(raw, []byte(cred.Secrets()[0])) {
		t.Fatal("the audit view holds the token")
	}
	if err := cred.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.Revoked(); len(got) != 1 || got[0] != cred.Leases[0] {
		t.Errorf("revoked %q, want the lease %q", got, cred.Leases)
	}

	// A refused request leaves nothing behind.
	if _, err := b.Acquire(context.Background(), classify.Target{Context: "other"}, Deploy); err == nil || !strings.Contains(err.Error(), "allowed_kubernetes_namespaces") {
		t.Errorf("error %v", err)
	}
	// A failure after the lease was issued revokes it.
	b.TempDir = filepath.Join(dir, "missing")
	if _, err := b.Acquire(context.Background(), classify.Target{Context: "lab", Namespace: ns}, Deploy); err == nil {
		t.Fatal("Acquire succeeded without a place for the kubeconfig")
	}
	if live := s.Live(); len(live) != 0 {
		t.Errorf("leases live after a failed Acquire: %q", live)
	}
}

type kubectlOut struct{ stdout, stderr string }

func runKubectl(t testing.TB, kubectl string, env []string, stdin string, args ...string) kubectlOut {
	t.Helper()
	cmd := exec.Command(kubectl, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	_ = cmd.Run()
	return kubectlOut{o.String(), e.String()}
}

func jwtLifetime(t *testing.T, token string) time.Duration {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Exp, Iat int64 }
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return time.Duration(claims.Exp-claims.Iat) * time.Second
}

// TestRedactedSecretFromKubectl reads a Secret with the real kubectl (as
// if a policy allowed it) and checks what reaches the agent.
func TestRedactedSecretFromKubectl(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-very-secret\n")
	kubectl := testenv.Bin(t, "kubectl")
	env := append(ChildEnv(os.Environ(), nil), "KUBECONFIG="+c.Kubeconfig(t, testenv.UserAdmin))
	encoded := base64.StdEncoding.EncodeToString([]byte("hunter2-very-secret"))
	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			raw := runKubectl(t, kubectl, env, "", "-n", ns, "get", "secret", "db", "-o", format)
			if !strings.Contains(raw.stdout, encoded) {
				t.Fatalf("kubectl output lacks the secret to redact: %s%s", raw.stdout, raw.stderr)
			}
			r := redact.New(redact.Options{})
			var out bytes.Buffer
			w := r.Writer(&out)
			_, _ = w.Write([]byte(raw.stdout))
			_ = w.Close()
			if strings.Contains(out.String(), encoded) || !strings.Contains(out.String(), "[REDACTED:secret]") || r.Counts()[redact.Secret] == 0 {
				t.Fatalf("redacted output:\n%s", out.String())
			}
		})
	}
}

// deployVault starts a Vault test server whose Kubernetes secrets engine
// role "deploy" mints real tokens for the prefix-deploy ServiceAccount of
// ns, and whose AppRole "agentctl" logs agentctl in.
func deployVault(tb testing.TB, c *testenv.Cluster, ns, prefix string) *vaulttest.Server {
	admin := c.AdminClient(tb)
	mint := func(namespace string, ttl time.Duration) (string, string, error) {
		secs := int64(ttl / time.Second)
		tr, err := admin.CoreV1().ServiceAccounts(namespace).CreateToken(context.Background(), prefix+"-deploy",
			&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
		if err != nil {
			return "", "", err
		}
		return tr.Status.Token, prefix + "-deploy", nil
	}
	return vaulttest.Start(tb, vaulttest.Config{
		AppRoles:        map[string]string{"agentctl": "approle-secret-id-1234"},
		KubernetesRoles: map[string]vaulttest.KubernetesRole{"deploy": {AllowedNamespaces: []string{ns}, Mint: mint}},
	})
}

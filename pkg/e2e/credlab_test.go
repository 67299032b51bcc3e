package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/agentctl/agentctl/pkg/credentials"
	"github.com/agentctl/agentctl/pkg/credentials/vaulttest"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// labContext is the kubeconfig context of the agent's own kubeconfig in a
// credentials lab: it names the test cluster and holds no credentials.
const labContext = "lab"

// credLab is a user with a credentials configuration
// (~/.config/agentctl/config.yaml) for the test cluster, and an agent whose
// own ~/.kube/config names the cluster but holds no credentials. The
// bootstrap RBAC of `agentctl bootstrap kubernetes` is applied in a fresh
// namespace; testenv's reader user is bound to the read ClusterRole in
// that namespace only, so other tests still see it powerless.
type credLab struct {
	c      *testenv.Cluster
	ns     string
	prefix string // PREFIX-read, PREFIX-deploy, PREFIX-broker
	e      *env
	tmp    string // TMPDIR of agentctl and its children

	vault  *vaulttest.Server
	mu     sync.Mutex
	minted []string // tokens the Vault test server handed out
}

func newCredLab(t *testing.T) *credLab {
	t.Helper()
	c := testenv.Start(t)
	l := &credLab{c: c, ns: c.NewNamespace(t), e: newEnv(t)}
	l.prefix = "agentctl-" + l.ns
	rbac, err := credentials.KubernetesRBAC(credentials.RBACOptions{Namespace: l.ns, Prefix: l.prefix,
		BrokerUsers: []string{testenv.UserBroker}})
	if err != nil {
		t.Fatal(err)
	}
	c.Apply(t, l.ns, string(rbac))
	c.Apply(t, l.ns, `
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-is-agentctl-read}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: `+l.prefix+`-read}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: reader}
`)
	c.Apply(t, l.ns, webFixtures)

	l.tmp = filepath.Join(l.e.home, "tmp")
	if err := os.Mkdir(l.tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	l.e.vars = append(l.e.vars, "TMPDIR="+l.tmp)

	// The agent's kubeconfig: the cluster and a context, no user credentials.
	kc := clientcmdapi.NewConfig()
	kc.Clusters["testenv"] = &clientcmdapi.Cluster{Server: c.Server(), CertificateAuthorityData: c.CAData()}
	kc.AuthInfos["agent"] = &clientcmdapi.AuthInfo{}
	kc.Contexts[labContext] = &clientcmdapi.Context{Cluster: "testenv", AuthInfo: "agent", Namespace: l.ns}
	kc.CurrentContext = labContext
	if err := os.MkdirAll(filepath.Join(l.e.home, ".kube"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*kc, filepath.Join(l.e.home, ".kube", "config")); err != nil {
		t.Fatal(err)
	}
	return l
}

// write writes a file under HOME and returns its path.
func (l *credLab) write(t *testing.T, rel, content string) string {
	t.Helper()
	p := filepath.Join(l.e.home, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// config writes the credentials configuration to its default place.
func (l *credLab) config(t *testing.T, yaml string) {
	t.Helper()
	l.write(t, ".config/agentctl/config.yaml", yaml)
}

// policy writes a user policy file that maps the lab's namespace to the
// environment dev and adds rules, and returns its path.
func (l *credLab) policy(t *testing.T, rules string) string {
	t.Helper()
	looseningNeedsRoot(t)
	return l.write(t, "policy.yaml", "environments:\n  - {name: dev, namespace: \""+l.ns+"\"}\nrules:\n"+rules)
}

// startVault runs the Vault test server with an AppRole for agentctl and a
// Kubernetes secrets engine whose roles "read" and "deploy" mint real
// tokens of PREFIX-read and PREFIX-deploy, recording every token.
func (l *credLab) startVault(t *testing.T) {
	t.Helper()
	admin := l.c.AdminClient(t)
	mint := func(sa string) func(string, time.Duration) (string, string, error) {
		return func(ns string, ttl time.Duration) (string, string, error) {
			secs := int64(ttl / time.Second)
			tr, err := admin.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), sa,
				&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &secs}}, metav1.CreateOptions{})
			if err != nil {
				return "", "", err
			}
			l.mu.Lock()
			l.minted = append(l.minted, tr.Status.Token)
			l.mu.Unlock()
			return tr.Status.Token, sa, nil
		}
	}
	l.vault = vaulttest.Start(t, vaulttest.Config{
		AppRoles: map[string]string{"agentctl": "approle-secret-" + l.ns},
		KubernetesRoles: map[string]vaulttest.KubernetesRole{
			"read":   {AllowedNamespaces: []string{l.ns}, Mint: mint(l.prefix + "-read")},
			"deploy": {AllowedNamespaces: []string{l.ns}, Mint: mint(l.prefix + "-deploy")},
		},
	})
}

// vaultConfig is a credentials configuration whose read and deploy
// identities both come from the Vault test server.
func (l *credLab) vaultConfig(t *testing.T) string {
	t.Helper()
	cluster := l.c.Kubeconfig(t, testenv.UserReader) // its server and CA only
	vk := func(role string) string {
		return "    vault-kubernetes: {role: " + role + ", namespace: " + l.ns + ", ttl: 10m, cluster: {path: " + cluster + "}}\n"
	}
	return "vault:\n  address: " + l.vault.URL + "\n  auth:\n    approle: {roleID: agentctl, secretID: approle-secret-" + l.ns + "}\n" +
		"targets:\n- name: lab\n  match: {context: " + labContext + "}\n  read:\n" + vk("read") + "  deploy:\n" + vk("deploy")
}

// tokens returns the tokens Vault handed out so far.
func (l *credLab) tokens() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.minted...)
}

// auditPath is where agentctl writes the audit log by default.
func (e *env) auditPath() string {
	return filepath.Join(e.home, ".local", "state", "agentctl", "audit.jsonl")
}

// auditRecords reads the audit log, one map per record.
func (e *env) auditRecords() []map[string]any {
	e.t.Helper()
	return readAudit(e.t, e.auditPath())
}

func readAudit(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit log line %d: %v", len(out)+1, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// lastResult returns the last result record of the audit log.
func (e *env) lastResult() map[string]any {
	e.t.Helper()
	recs := e.auditRecords()
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i]["kind"] == "result" {
			return recs[i]
		}
	}
	e.t.Fatal("the audit log has no result record")
	return nil
}

// agentctlStdin runs agentctl with stdin.
func (e *env) agentctlStdin(stdin string, args ...string) result {
	e.t.Helper()
	return e.runStdin(agentctlBin(e.t), stdin, args...)
}

// filesHolding returns the files under the roots whose contents hold s.
func filesHolding(t *testing.T, s string, roots ...string) []string {
	t.Helper()
	var out []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(s)) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

package kubectl

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
)

// testCA returns a self-signed CA certificate in PEM and the SHA-256 of
// its DER.
func testCA(t *testing.T) ([]byte, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), hex.EncodeToString(sum[:])
}

// classifyWith classifies args against a kubeconfig written from cluster,
// the YAML of the one cluster entry "c" that context "ctx" uses.
func classifyWith(t *testing.T, cluster string, args ...string) *classify.Assessment {
	t.Helper()
	dir := t.TempDir()
	kc := "apiVersion: v1\nkind: Config\ncurrent-context: ctx\nclusters:\n- name: c\n  cluster:\n" + cluster +
		"contexts:\n- name: ctx\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\n"
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &request.Request{Tool: "kubectl", Args: args, Cwd: dir,
		Env: []string{"KUBECONFIG=" + filepath.Join(dir, "config"), "HOME=/nonexistent"}}
	a, err := classifier().Classify(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestServerRefused(t *testing.T) {
	for _, c := range []struct {
		name    string
		cluster string
		args    []string
		want    string
	}{
		{"--server with userinfo", "    server: https://127.0.0.1:6443\n", []string{"--server", "https://127.0.0.1:6443@127.0.0.1:9999", "get", "pods"}, "user information"},
		{"--server= with userinfo", "    server: https://127.0.0.1:6443\n", []string{"--server=https://x@127.0.0.1:9999", "get", "pods"}, "user information"},
		{"-s with a short ipv4", "    server: https://127.0.0.1:6443\n", []string{"-s", "https://127.1:9999", "get", "pods"}, "IPv4"},
		{"--server without a scheme", "    server: https://127.0.0.1:6443\n", []string{"--server", "127.0.0.1:9999", "get", "pods"}, "no scheme"},
		{"kubeconfig server with userinfo", "    server: https://127.0.0.1:6443@127.0.0.1:9999\n", []string{"get", "pods"}, "user information"},
		{"kubeconfig server with a query", "    server: https://127.0.0.1:6443?x=y\n", []string{"delete", "pod", "x"}, "query"},
		{"kubeconfig server with a leading-zero port", "    server: https://127.0.0.1:06443\n", []string{"get", "pods"}, "leading zero"},
		{"kubeconfig proxy-url", "    server: https://127.0.0.1:6443\n    proxy-url: http://127.0.0.1:9999\n", []string{"get", "pods"}, "proxy-url"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := classifyWith(t, c.cluster, c.args...)
			if a.Refused == "" || !strings.Contains(a.Refused, c.want) || a.RefusedHint == "" {
				t.Fatalf("refused %q (hint %q), want a refusal saying %q:\n%s", a.Refused, a.RefusedHint, c.want, dump(a))
			}
			if a.Class != classify.Unknown {
				t.Errorf("class %s, want unknown", a.Class)
			}
		})
	}
}

func TestServerIdentity(t *testing.T) {
	caPEM, sum := testCA(t)
	otherPEM, otherSum := testCA(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	otherFile := filepath.Join(dir, "other.crt")
	if err := os.WriteFile(otherFile, otherPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	data := base64.StdEncoding.EncodeToString(caPEM)
	bundle := base64.StdEncoding.EncodeToString(append(append([]byte(nil), caPEM...), otherPEM...))
	for _, c := range []struct {
		name    string
		cluster string
		args    []string
		want    string
	}{
		{"certificate-authority-data", "    server: https://127.0.0.1:6443\n    certificate-authority-data: " + data + "\n", nil, sum},
		{"certificate-authority file", "    server: https://127.0.0.1:6443\n    certificate-authority: " + caFile + "\n", nil, sum},
		{"--certificate-authority replaces the data", "    server: https://127.0.0.1:6443\n    certificate-authority-data: " + data + "\n", []string{"--certificate-authority", otherFile}, otherSum},
		{"insecure-skip-tls-verify has no identity", "    server: https://127.0.0.1:6443\n    insecure-skip-tls-verify: true\n", nil, ""},
		{"--insecure-skip-tls-verify drops the data", "    server: https://127.0.0.1:6443\n    certificate-authority-data: " + data + "\n", []string{"--insecure-skip-tls-verify"}, ""},
		{"a bundle of two has no identity", "    server: https://127.0.0.1:6443\n    certificate-authority-data: " + bundle + "\n", nil, ""},
		{"no CA", "    server: https://127.0.0.1:6443\n", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := classifyWith(t, c.cluster, append(c.args, "get", "pods")...)
			if a.Target.CASHA256 != c.want {
				t.Errorf("caSha256 %q, want %q", a.Target.CASHA256, c.want)
			}
		})
	}
}

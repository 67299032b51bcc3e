package run

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/agentctl/agentctl/pkg/classify"
)

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- name: dev
  cluster: {server: "https://dev.example:6443", certificate-authority: ca.crt}
- name: prod
  cluster: {server: "https://prod.example:6443"}
users:
- name: me
  user: {token: t}
contexts:
- name: dev
  context: {cluster: dev, user: me}
- name: prod
  context: {cluster: prod, user: me}
current-context: dev
`

func TestPinKubeconfigSurvivesASwitchedContext(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	os.WriteFile(path, []byte(twoContexts), 0o600)
	os.WriteFile(filepath.Join(dir, "ca.crt"), []byte("CA-BYTES"), 0o600)
	a := &classify.Assessment{
		Tool:   "kubectl",
		Target: classify.Target{Kubeconfig: path, Context: "dev", Cluster: "dev", Server: "https://dev.example:6443"},
		Exec:   classify.Invocation{Args: []string{"--kubeconfig", path, "delete", "pod", "x", "--", "--kubeconfig=keep"}},
	}
	if err := PinKubeconfig(a); err != nil {
		t.Fatal(err)
	}
	// The agent switches its kubeconfig to prod after the approval.
	os.WriteFile(path, []byte(strings.Replace(twoContexts, "current-context: dev", "current-context: prod", 1)), 0o600)

	cfg, err := clientcmd.Load(a.Exec.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "dev" {
		t.Errorf("pinned current-context = %q, want dev", cfg.CurrentContext)
	}
	if got := string(cfg.Clusters["dev"].CertificateAuthorityData); got != "CA-BYTES" {
		t.Errorf("the CA file was not embedded: %q", got)
	}
	if want := []string{"delete", "pod", "x", "--", "--kubeconfig=keep"}; !reflect.DeepEqual(a.Exec.Args, want) {
		t.Errorf("args = %q, want --kubeconfig removed before -- only: %q", a.Exec.Args, want)
	}
}

func TestPinKubeconfigRefusesAFileChangedUnderneath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	os.WriteFile(filepath.Join(dir, "ca.crt"), []byte("CA-BYTES"), 0o600)
	os.WriteFile(path, []byte(strings.Replace(twoContexts, "https://dev.example:6443", "https://evil.example:6443", 1)), 0o600)
	a := &classify.Assessment{
		Tool:   "kubectl",
		Target: classify.Target{Kubeconfig: path, Context: "dev", Cluster: "dev", Server: "https://dev.example:6443"},
		Exec:   classify.Invocation{Args: []string{"get", "pods"}},
	}
	err := PinKubeconfig(a)
	if err == nil || !strings.Contains(err.Error(), "kubeconfig changed") {
		t.Fatalf("err = %v, want a refusal naming the changed kubeconfig", err)
	}
}

func TestPinKubeconfigIgnoresOtherContextsMissingFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	// dev's CA file does not exist; the command targets prod.
	os.WriteFile(path, []byte(twoContexts), 0o600)
	a := &classify.Assessment{
		Tool:   "kubectl",
		Target: classify.Target{Kubeconfig: path, Context: "prod", Cluster: "prod", Server: "https://prod.example:6443"},
		Exec:   classify.Invocation{Args: []string{"--context", "prod", "get", "pods"}},
	}
	if err := PinKubeconfig(a); err != nil {
		t.Fatalf("a broken unrelated context must not stop a command: %v", err)
	}
	a.Target.Context, a.Target.Cluster, a.Target.Server = "dev", "dev", "https://dev.example:6443"
	if err := PinKubeconfig(a); err == nil {
		t.Fatal("the target's own missing CA file must fail closed")
	}
}

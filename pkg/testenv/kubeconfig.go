package testenv

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ClusterName is the name of the cluster entry in written kubeconfigs.
const ClusterName = "testenv"

// Context is one context of a kubeconfig that [Cluster.KubeconfigContexts]
// writes: Name (default: User) authenticates as User, one of [Users], with
// Namespace as its default namespace (default: none).
type Context struct {
	Name      string
	User      string
	Namespace string
}

// Kubeconfig writes a kubeconfig for user in t.TempDir() and returns its
// path. Its only context, named after the user, is the current one.
func (c *Cluster) Kubeconfig(t testing.TB, user string) string {
	t.Helper()
	return c.KubeconfigContexts(t, Context{User: user})
}

// KubeconfigContexts writes a kubeconfig with the given contexts in
// t.TempDir() and returns its path. The first context is the current one.
func (c *Cluster) KubeconfigContexts(t testing.TB, contexts ...Context) string {
	t.Helper()
	return writeKubeconfig(t, c.server, c.pki.caPEM, c.pki.tokens, contexts)
}

// OfflineKubeconfig writes a kubeconfig like [Cluster.Kubeconfig] whose
// server is a 127.0.0.1 port nothing listens on, to test what agentctl does
// when the cluster cannot be reached. It needs no running cluster.
func OfflineKubeconfig(t testing.TB, user string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a closed port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	server := "https://127.0.0.1:" + strconv.Itoa(port)
	tokens := map[string]string{user: "offline-token-of-" + user}
	return writeKubeconfig(t, server, nil, tokens, []Context{{User: user}})
}

func writeKubeconfig(t testing.TB, server string, ca []byte, tokens map[string]string, contexts []Context) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := writeKubeconfigFile(path, server, ca, tokens, contexts); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return path
}

// writeKubeconfigFile writes a kubeconfig with contexts, the first one
// current, to path.
func writeKubeconfigFile(path, server string, ca []byte, tokens map[string]string, contexts []Context) error {
	if len(contexts) == 0 {
		return errors.New("kubeconfig needs at least one context")
	}
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = server
	cluster.CertificateAuthorityData = ca
	cluster.InsecureSkipTLSVerify = ca == nil
	cfg.Clusters[ClusterName] = cluster
	for _, ctx := range contexts {
		token, ok := tokens[ctx.User]
		if !ok {
			return fmt.Errorf("unknown user %q", ctx.User)
		}
		name := ctx.Name
		if name == "" {
			name = ctx.User
		}
		auth := clientcmdapi.NewAuthInfo()
		auth.Token = token
		cfg.AuthInfos[ctx.User] = auth
		kctx := clientcmdapi.NewContext()
		kctx.Cluster = ClusterName
		kctx.AuthInfo = ctx.User
		kctx.Namespace = ctx.Namespace
		cfg.Contexts[name] = kctx
		if cfg.CurrentContext == "" {
			cfg.CurrentContext = name
		}
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// RESTConfig returns a client configuration that authenticates as user.
func (c *Cluster) RESTConfig(user string) *rest.Config {
	return &rest.Config{
		Host:            c.server,
		BearerToken:     c.Token(user),
		TLSClientConfig: rest.TLSClientConfig{CAData: c.pki.caPEM},
		QPS:             100,
		Burst:           200,
	}
}

// Client returns a clientset that authenticates as user.
func (c *Cluster) Client(t testing.TB, user string) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.RESTConfig(user))
	if err != nil {
		t.Fatalf("client for %q: %v", user, err)
	}
	return cs
}

// AdminClient returns a clientset that authenticates as [UserAdmin].
func (c *Cluster) AdminClient(t testing.TB) kubernetes.Interface {
	t.Helper()
	return c.Client(t, UserAdmin)
}

package kubectl

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/request"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// targetResolver resolves the effective target of a command with
// clientcmd's loading rules, from the agent's environment (KUBECONFIG,
// HOME) and the global flags, never from this process's environment.
// Parsed kubeconfig files are cached by path, size and modification time.
type targetResolver struct {
	mu    sync.Mutex
	cache map[string]*clientcmdapi.Config
}

// kubeconfigPaths returns the files clientcmd would merge, in precedence
// order, and the explicit --kubeconfig path if any.
func kubeconfigPaths(req *request.Request, p *parsed) (explicit string, precedence []string) {
	abs := func(f string) string {
		if f == "" || filepath.IsAbs(f) {
			return f
		}
		return filepath.Join(req.Cwd, f)
	}
	explicit = abs(p.str("kubeconfig"))
	if v := request.Getenv(req.Env, "KUBECONFIG"); v != "" {
		for _, f := range filepath.SplitList(v) {
			if f != "" {
				precedence = append(precedence, abs(f))
			}
		}
	} else if home := request.Getenv(req.Env, "HOME"); home != "" {
		precedence = []string{filepath.Join(home, ".kube", "config")}
	}
	return explicit, precedence
}

// rules builds clientcmd loading rules and overrides for the command.
func loading(req *request.Request, p *parsed) (*clientcmd.ClientConfigLoadingRules, *clientcmd.ConfigOverrides) {
	explicit, precedence := kubeconfigPaths(req, p)
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: explicit, Precedence: precedence}
	ov := &clientcmd.ConfigOverrides{CurrentContext: p.str("context")}
	ov.Context.Cluster = p.str("cluster")
	ov.Context.AuthInfo = p.str("user")
	ov.Context.Namespace = p.str("namespace")
	ov.ClusterInfo.Server = p.str("server")
	return rules, ov
}

// clientConfig returns a clientcmd config for discovery.
func clientConfig(req *request.Request, p *parsed) clientcmd.ClientConfig {
	rules, ov := loading(req, p)
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, ov)
}

// resolve fills in the target. It copies names and the server address
// only, never credentials.
func (r *targetResolver) resolve(req *request.Request, p *parsed) (classify.Target, error) {
	explicit, precedence := kubeconfigPaths(req, p)
	var t classify.Target
	if explicit != "" {
		t.Kubeconfig = explicit
	} else {
		t.Kubeconfig = strings.Join(precedence, string(filepath.ListSeparator))
	}
	cfg, err := r.load(req, p, explicit, precedence)
	if err != nil {
		return t, err
	}
	t.Context = p.str("context")
	if t.Context == "" {
		t.Context = cfg.CurrentContext
	}
	var ctx clientcmdapi.Context
	if c := cfg.Contexts[t.Context]; c != nil {
		ctx = *c
	}
	t.Cluster = first(p.str("cluster"), ctx.Cluster)
	t.User = first(p.str("user"), ctx.AuthInfo)
	t.Server = p.str("server")
	t.ServerFlag = t.Server != ""
	cl := clientcmdapi.NewCluster()
	if c := cfg.Clusters[t.Cluster]; c != nil {
		cl = c.DeepCopy()
	}
	if t.Server == "" {
		t.Server = cl.Server
	}
	t.Namespace = first(p.str("namespace"), ctx.Namespace, "default")
	// The certificate authority kubectl checks the server against, as
	// clientcmd merges it: --certificate-authority or
	// --insecure-skip-tls-verify=true replace the cluster's settings.
	if ca, insecure := p.str("certificate-authority"), p.str("insecure-skip-tls-verify") == "true"; ca != "" || insecure {
		if ca != "" && !filepath.IsAbs(ca) {
			ca = filepath.Join(req.Cwd, ca)
		}
		cl.CertificateAuthority, cl.CertificateAuthorityData, cl.InsecureSkipTLSVerify = ca, nil, insecure
	}
	t.ProxyURL = cl.ProxyURL
	if !cl.InsecureSkipTLSVerify {
		data := cl.CertificateAuthorityData
		if len(data) == 0 && cl.CertificateAuthority != "" {
			data, _ = os.ReadFile(cl.CertificateAuthority)
		}
		t.CASHA256, _ = classify.CAFingerprint(data)
	}
	return t, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// load returns the merged kubeconfig, from the cache when no file changed.
func (r *targetResolver) load(req *request.Request, p *parsed, explicit string, precedence []string) (*clientcmdapi.Config, error) {
	var key strings.Builder
	for _, f := range append([]string{explicit}, precedence...) {
		key.WriteString(f)
		if fi, err := os.Stat(f); err == nil {
			fmt.Fprintf(&key, "\x00%d\x00%d", fi.ModTime().UnixNano(), fi.Size())
		}
		key.WriteByte('\n')
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cfg, ok := r.cache[key.String()]; ok {
		return cfg, nil
	}
	rules, _ := loading(req, p)
	cfg, err := rules.Load()
	if err != nil {
		return nil, err
	}
	if r.cache == nil || len(r.cache) > 64 {
		r.cache = map[string]*clientcmdapi.Config{}
	}
	r.cache[key.String()] = cfg
	return cfg, nil
}

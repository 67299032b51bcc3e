package testenv

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// StartStandalone starts a cluster outside of any test, for `make demo`.
// The caller must Stop it. The binaries must have been built (make testbin).
func StartStandalone() (*Cluster, error) {
	etcd, err := BinPath("etcd")
	if err != nil {
		return nil, err
	}
	apiserver, err := BinPath("kube-apiserver")
	if err != nil {
		return nil, err
	}
	return startCluster(etcd, apiserver)
}

// WriteKubeconfig writes a kubeconfig for user to path (mode 0600), with
// one context named context.
func (c *Cluster) WriteKubeconfig(path, user, context string) error {
	token, ok := c.pki.tokens[user]
	if !ok {
		return fmt.Errorf("unknown user %q", user)
	}
	cfg := clientcmdapi.NewConfig()
	cl := clientcmdapi.NewCluster()
	cl.Server = c.server
	cl.CertificateAuthorityData = c.pki.caPEM
	cfg.Clusters[ClusterName] = cl
	ai := clientcmdapi.NewAuthInfo()
	ai.Token = token
	cfg.AuthInfos[user] = ai
	ctx := clientcmdapi.NewContext()
	ctx.Cluster, ctx.AuthInfo, ctx.Namespace = ClusterName, user, "default"
	cfg.Contexts[context] = ctx
	cfg.CurrentContext = context
	return clientcmd.WriteToFile(*cfg, path)
}

package credentials

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/agentctl/agentctl/pkg/classify"
)

// loadRef reads one context of a kubeconfig file, with certificate and key
// files inlined so the result stands alone.
func loadRef(ref *KubeconfigRef) (*clientcmdapi.Config, string, error) {
	cfg, err := clientcmd.LoadFromFile(ref.Path)
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig %q: %w", ref.Path, err)
	}
	name := orDefault(ref.Context, cfg.CurrentContext)
	kctx, ok := cfg.Contexts[name]
	if !ok {
		return nil, "", fmt.Errorf("kubeconfig %q has no context %q", ref.Path, name)
	}
	if _, ok := cfg.Clusters[kctx.Cluster]; !ok {
		return nil, "", fmt.Errorf("kubeconfig %q: context %q names missing cluster %q", ref.Path, name, kctx.Cluster)
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return nil, "", fmt.Errorf("kubeconfig %q: %w", ref.Path, err)
	}
	return cfg, name, nil
}

func (b *Broker) fromKubeconfig(c *Credential, t classify.Target, ref *KubeconfigRef) error {
	cfg, name, err := loadRef(ref)
	if err != nil {
		return err
	}
	kctx := cfg.Contexts[name]
	user, ok := cfg.AuthInfos[kctx.AuthInfo]
	if !ok {
		return fmt.Errorf("kubeconfig %q: context %q names missing user %q", ref.Path, name, kctx.AuthInfo)
	}
	c.Identity = fmt.Sprintf("kubeconfig %s context %s", ref.Path, name)
	c.addSecret(user.Token)
	c.addSecret(string(user.ClientKeyData))
	c.addSecret(user.Password)
	return b.writeKubeconfig(c, t, cfg.Clusters[kctx.Cluster], user)
}

// fromTokenRequest mints a token for the deploy ServiceAccount with the
// broker identity. Tokens from TokenRequest cannot be revoked; they
// expire after the TTL, so the TTL is kept short.
func (b *Broker) fromTokenRequest(ctx context.Context, c *Credential, t classify.Target, k *KubernetesToken) error {
	cfg, name, err := loadRef(&k.Broker)
	if err != nil {
		return fmt.Errorf("broker: %w", err)
	}
	rc, err := clientcmd.NewNonInteractiveClientConfig(*cfg, name, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return fmt.Errorf("broker: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("broker: %w", err)
	}
	ns, sa, _ := strings.Cut(k.ServiceAccount, "/")
	secs := int64(k.TTL / time.Second)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authv1.TokenRequest{
		Spec: authv1.TokenRequestSpec{ExpirationSeconds: &secs, Audiences: k.Audiences},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("token for serviceaccount %q: %w", k.ServiceAccount, err)
	}
	c.Identity = "kubernetes-token " + k.ServiceAccount
	c.Expires = tr.Status.ExpirationTimestamp.Time
	c.addSecret(tr.Status.Token)
	return b.writeKubeconfig(c, t, cfg.Clusters[cfg.Contexts[name].Cluster], &clientcmdapi.AuthInfo{Token: tr.Status.Token})
}

// fromVaultKubernetes asks Vault's Kubernetes secrets engine for a
// ServiceAccount token; its lease is revoked by Release.
func (b *Broker) fromVaultKubernetes(ctx context.Context, c *Credential, t classify.Target, v *VaultKubernetes) error {
	cluster := &clientcmdapi.Cluster{Server: v.Server}
	if v.Cluster != nil {
		cfg, name, err := loadRef(v.Cluster)
		if err != nil {
			return fmt.Errorf("cluster: %w", err)
		}
		cluster = cfg.Clusters[cfg.Contexts[name].Cluster]
	} else if v.CAFile != "" {
		ca, err := os.ReadFile(v.CAFile)
		if err != nil {
			return fmt.Errorf("caFile: %w", err)
		}
		cluster.CertificateAuthorityData = ca
	}
	vc, err := b.vaultClient(ctx)
	if err != nil {
		return err
	}
	body := map[string]any{"kubernetes_namespace": v.Namespace}
	if v.TTL > 0 {
		body["ttl"] = v.TTL.String()
	}
	if v.ClusterRoleBinding {
		body["cluster_role_binding"] = true
	}
	p := v.Mount + "/creds/" + v.Role
	c.Identity = "vault-kubernetes " + v.Mount + "/" + v.Role
	s, err := vc.Logical().WriteWithContext(ctx, p, body)
	if s != nil && s.LeaseID != "" {
		c.trackLease(vc, s.LeaseID) // even if the context ended meanwhile
	}
	if err != nil {
		return fmt.Errorf("vault %s: %w", p, err)
	}
	if s == nil || s.Data == nil {
		return fmt.Errorf("vault %s returned no credential", p)
	}
	token, _ := s.Data["service_account_token"].(string)
	if token == "" {
		return fmt.Errorf("vault %s returned no service_account_token", p)
	}
	c.addSecret(token)
	if s.LeaseDuration > 0 {
		c.Expires = time.Now().Add(time.Duration(s.LeaseDuration) * time.Second)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return b.writeKubeconfig(c, t, cluster, &clientcmdapi.AuthInfo{Token: token})
}

// writeKubeconfig writes a kubeconfig with one context, named like the
// target's context so that an agent's --context still selects it.
func (b *Broker) writeKubeconfig(c *Credential, t classify.Target, cluster *clientcmdapi.Cluster, user *clientcmdapi.AuthInfo) error {
	dir, err := os.MkdirTemp(b.TempDir, "agentctl-cred-")
	if err != nil {
		return err
	}
	c.Dir = dir
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	name := orDefault(t.Context, "agentctl")
	clusterName := orDefault(t.Cluster, name)
	userName := "agentctl-" + string(c.Role)
	cl := cluster.DeepCopy()
	cl.LocationOfOrigin = ""
	u := &clientcmdapi.AuthInfo{Token: user.Token, ClientCertificateData: user.ClientCertificateData,
		ClientKeyData: user.ClientKeyData, Username: user.Username, Password: user.Password, Exec: user.Exec}
	kc := clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{clusterName: cl},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{userName: u},
		Contexts:       map[string]*clientcmdapi.Context{name: {Cluster: clusterName, AuthInfo: userName, Namespace: t.Namespace}},
		CurrentContext: name,
	}
	data, err := clientcmd.Write(kc)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	c.Kubeconfig = path
	c.Env = append(c.Env, "KUBECONFIG="+path)
	return nil
}

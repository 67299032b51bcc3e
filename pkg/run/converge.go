package run

import (
	"context"
	"fmt"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/converge"
	"github.com/agentctl/agentctl/pkg/credentials"
)

// ClusterReader opens a reader of the cluster an assessed kubectl command
// targets, for the convergence check: as the read identity when a broker
// issues credentials, else with the kubeconfig that was assessed (the
// pinned bytes, or the files when nothing was pinned). It refuses a
// kubeconfig that reaches another server than the assessed one. close
// releases the credential.
func (e *LocalExecutor) ClusterReader(ctx context.Context, a *classify.Assessment) (converge.Source, func(), error) {
	cfg, release, err := e.readConfig(ctx, a)
	if err != nil {
		return nil, func() {}, err
	}
	if a.Target.Server != "" {
		want, err1 := classify.ParseServer(a.Target.Server)
		got, err2 := classify.ParseServer(cfg.Host)
		if err1 != nil || err2 != nil || want.URL != got.URL {
			release()
			return nil, func() {}, &TargetMismatchError{fmt.Sprintf("the kubeconfig for the convergence check reaches %q, but the command was assessed for %q", cfg.Host, a.Target.Server)}
		}
	}
	src, err := converge.NewDynamic(cfg)
	if err != nil {
		release()
		return nil, func() {}, err
	}
	return src, release, nil
}

func (e *LocalExecutor) readConfig(ctx context.Context, a *classify.Assessment) (*rest.Config, func(), error) {
	overrides := &clientcmd.ConfigOverrides{CurrentContext: a.Target.Context}
	if e.Credentials != nil {
		cred, err := e.Credentials.Acquire(ctx, a.Target, credentials.Read)
		if err != nil {
			return nil, nil, err
		}
		release := func() { cred.Release(context.WithoutCancel(ctx)) }
		if cred.Kubeconfig == "" {
			release()
			return nil, nil, fmt.Errorf("the read identity for %s has no kubeconfig", a.Target)
		}
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&clientcmd.ClientConfigLoadingRules{ExplicitPath: cred.Kubeconfig}, &clientcmd.ConfigOverrides{}).ClientConfig()
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("cannot read the read identity's kubeconfig: %w", err)
		}
		return cfg, release, nil
	}
	var cc clientcmd.ClientConfig
	switch {
	case a.Exec.Kubeconfig != nil:
		raw, err := clientcmd.Load(a.Exec.Kubeconfig)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot read the assessed kubeconfig: %w", err)
		}
		cc = clientcmd.NewDefaultClientConfig(*raw, overrides)
	case a.Target.Kubeconfig != "":
		rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(a.Target.Kubeconfig)}
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	default:
		return nil, nil, fmt.Errorf("no kubeconfig to read %s with", a.Target)
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the kubeconfig of %s: %w", a.Target, err)
	}
	return cfg, func() {}, nil
}

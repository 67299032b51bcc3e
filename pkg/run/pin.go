package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/exitcode"
)

// PinKubeconfig snapshots the kubeconfig a kubectl command was assessed
// against, so that what was approved is where it runs: the merged
// kubeconfig files are flattened (certificate and key files embedded) into
// Exec.Kubeconfig, and --kubeconfig is removed from Exec.Args. The
// executor hands the snapshot to kubectl; a kubeconfig file edited after
// the assessment (a current-context switched from dev to prod) changes
// nothing. A command with no kubeconfig file is left alone.
func PinKubeconfig(a *classify.Assessment) error {
	if a.Tool != "kubectl" || a.Target.Kubeconfig == "" || a.Refused != "" {
		return nil
	}
	args, explicit := withoutKubeconfigFlag(a.Exec.Args)
	rules := &clientcmd.ClientConfigLoadingRules{}
	if explicit {
		rules.ExplicitPath = a.Target.Kubeconfig
	} else {
		for _, p := range filepath.SplitList(a.Target.Kubeconfig) {
			if _, err := os.Stat(p); err == nil {
				rules.Precedence = append(rules.Precedence, p)
			}
		}
		if len(rules.Precedence) == 0 {
			return nil
		}
	}
	cfg, err := rules.Load()
	if err != nil {
		return fmt.Errorf("cannot read kubeconfig %q: %w", a.Target.Kubeconfig, err)
	}
	dropUnreadable(cfg, a.Target)
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return fmt.Errorf("cannot read a file the kubeconfig names: %w", err)
	}
	if err := sameServer(cfg, a.Target); err != nil {
		return err
	}
	b, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	a.Exec.Args = args
	a.Exec.Kubeconfig = b
	return nil
}

// dropUnreadable removes clusters and users other than the target's whose
// files are gone: kubectl would never read them, and flattening them would
// fail. The target's own stay, so a missing file of theirs fails closed.
func dropUnreadable(cfg *clientcmdapi.Config, t classify.Target) {
	missing := func(p string) bool {
		if p == "" {
			return false
		}
		_, err := os.Stat(p)
		return err != nil
	}
	for name, c := range cfg.Clusters {
		if name != t.Cluster && missing(c.CertificateAuthority) {
			delete(cfg.Clusters, name)
		}
	}
	for name, u := range cfg.AuthInfos {
		if name != t.User && (missing(u.ClientCertificate) || missing(u.ClientKey)) {
			delete(cfg.AuthInfos, name)
		}
	}
}

// sameServer checks that the snapshot still sends the assessed context to
// the assessed server: the file may have changed since the classifier read
// it.
func sameServer(cfg *clientcmdapi.Config, t classify.Target) error {
	if t.Cluster == "" || t.Server == "" || t.ServerFlag {
		return nil // --server names it
	}
	c, ok := cfg.Clusters[t.Cluster]
	if !ok {
		return nil
	}
	if c.Server != t.Server {
		return fmt.Errorf("kubeconfig changed while agentctl read it: cluster %q now points at %q, not %q", t.Cluster, c.Server, t.Server)
	}
	return nil
}

// withoutKubeconfigFlag removes --kubeconfig (both forms) from kubectl
// arguments before a "--".
func withoutKubeconfigFlag(args []string) ([]string, bool) {
	out := make([]string, 0, len(args))
	found := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if a == "--kubeconfig" && i+1 < len(args) {
			found = true
			i++
			continue
		}
		if strings.HasPrefix(a, "--kubeconfig=") {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}

// credentialReaches checks that a brokered credential's kubeconfig sends
// the command to the server it was assessed (and its environment chosen)
// for: the broker picks the identity by the target's names, which the
// agent writes, so a kubeconfig that calls the prod cluster by a dev
// server's URL must not get prod's identity for a decision made for dev.
// A target with no server (none was known) had no server identity to
// decide by.
func credentialReaches(kubeconfig string, t classify.Target) error {
	if t.Server == "" {
		return nil
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return fmt.Errorf("cannot read the credential's kubeconfig: %w", err)
	}
	var cl *clientcmdapi.Cluster
	if ctx := cfg.Contexts[cfg.CurrentContext]; ctx != nil {
		cl = cfg.Clusters[ctx.Cluster]
	}
	if cl == nil {
		return fmt.Errorf("the credential's kubeconfig has no cluster for context %q", cfg.CurrentContext)
	}
	want, err := classify.ParseServer(t.Server)
	if err != nil {
		return err
	}
	got, err := classify.ParseServer(cl.Server)
	if err != nil {
		return fmt.Errorf("the credential's server: %w", err)
	}
	if got.URL != want.URL {
		return &TargetMismatchError{fmt.Sprintf("the identity for context %q reaches %q, but the command was assessed for %q", t.Context, got.URL, want.URL)}
	}
	if t.CASHA256 != "" {
		data := cl.CertificateAuthorityData
		if len(data) == 0 && cl.CertificateAuthority != "" {
			if data, err = os.ReadFile(cl.CertificateAuthority); err != nil {
				return fmt.Errorf("the credential's certificate authority: %w", err)
			}
		}
		if ca, _ := classify.CAFingerprint(data); ca != t.CASHA256 {
			return &TargetMismatchError{fmt.Sprintf("the identity for context %q checks %q against another CA than the command was assessed with", t.Context, got.URL)}
		}
	}
	return nil
}

// TargetMismatchError refuses to run a command with a brokered identity
// for another server than the one the command was assessed for. Nothing
// ran; it is a denial (exit 77).
type TargetMismatchError struct{ Msg string }

func (e *TargetMismatchError) Error() string { return "denied: " + e.Msg }

// Hint tells the user what to do.
func (e *TargetMismatchError) Hint() string {
	return "point the agent's kubeconfig at the server the credentials configuration names for this target"
}

// ExitCode is 77: denied.
func (e *TargetMismatchError) ExitCode() int { return exitcode.Denied }

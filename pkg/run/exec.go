package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/sandbox"
)

// LocalExecutor runs assessed commands on this machine: kubectl as a child
// agentctl process running the embedded kubectl, terraform as the real
// binary; reads inside the sandbox.
type LocalExecutor struct {
	// Self is the path of the agentctl binary.
	Self string
	// Env is the child's base environment, already filtered from the
	// agent's environment through an allowlist. Credentials are added per
	// command by the credentials stage, never taken from the agent.
	Env []string
	// Home is the user's home directory: its credential stores are denied
	// to sandboxed commands.
	Home string
	// Deny lists agentctl's own files a sandboxed command must not reach
	// (audit log, keys, state).
	Deny []string
	// Terraform returns the path of the real terraform or tofu binary.
	Terraform func(tool string) (string, error)
	// Wrap, when set, wraps the command's stdout and stderr (redaction);
	// the returned func flushes and reports counts.
	Wrap func(stdout, stderr io.Writer) (io.Writer, io.Writer, func() map[string]int)
}

var _ Executor = (*LocalExecutor)(nil)

// CredentialStores lists the credential files and dirs under home that no
// sandboxed command may read.
func CredentialStores(home string) []string {
	var out []string
	for _, p := range []string{".kube", ".aws", ".ssh", ".config/gcloud", ".azure", ".vault-token",
		".terraform.d/credentials.tfrc.json", ".docker/config.json", ".netrc", ".git-credentials"} {
		out = append(out, filepath.Join(home, p))
	}
	return out
}

// Execute implements [Executor].
func (e *LocalExecutor) Execute(ctx context.Context, a *classify.Assessment, d policy.Decision, stdio Stdio) (*ExecReport, error) {
	rep := &ExecReport{}
	out := &countingWriter{w: stdio.Stdout}
	errw := &countingWriter{w: stdio.Stderr}
	var stdout, stderr io.Writer = out, errw
	flush := func() map[string]int { return nil }
	if e.Wrap != nil {
		stdout, stderr, flush = e.Wrap(out, errw)
	}
	stdin := io.Reader(bytes.NewReader(nil))
	switch {
	case a.Exec.Stdin != nil:
		stdin = bytes.NewReader(a.Exec.Stdin)
	case a.Exec.PassStdin:
		stdin = stdio.Stdin
	}
	var code int
	var err error
	switch a.Tool {
	case "kubectl":
		code, err = e.kubectl(ctx, a, d, stdin, stdout, stderr, rep)
	case "terraform", "tofu":
		code, err = e.terraform(ctx, a, d, Stdio{Stdin: stdin, Stdout: stdout, Stderr: stderr}, rep)
	default:
		err = fmt.Errorf("running %s is not supported yet", a.Tool)
	}
	rep.Redactions = flush()
	rep.ExitCode = code
	rep.OutputBytes = out.n + errw.n
	return rep, err
}

func (e *LocalExecutor) kubectl(ctx context.Context, a *classify.Assessment, d policy.Decision, stdin io.Reader, stdout, stderr io.Writer, rep *ExecReport) (int, error) {
	env := append([]string(nil), e.Env...)
	if a.Target.Kubeconfig != "" {
		env = append(env, "KUBECONFIG="+a.Target.Kubeconfig)
	}
	env = append(env, "KUBECTL_KUBERC=false")
	if d.Action != policy.Sandbox {
		rep.Sandbox = "none (decision " + string(d.Action) + ")"
		return startEntry(ctx, e.Self, KubectlEntry, a.Exec.Args, env, a.Exec.Dir, stdin, stdout, stderr)
	}
	cfg := sandbox.Config{
		Entry:    KubectlEntry,
		Argv:     a.Exec.Args,
		Env:      env,
		// No working directory: manifests arrive on stdin, so the
		// sandboxed kubectl needs nothing from the agent's tree.
		ReadOnly: kubeconfigFiles(a.Target.Kubeconfig),
		Deny:     append(CredentialStores(e.Home), e.Deny...),
		Required: d.SandboxRequired,
	}
	if dest := serverDestination(a.Target.Server); dest != "" {
		cfg.Destinations = []string{dest}
	}
	code, enf, err := sandbox.Run(ctx, cfg, sandbox.Stdio{In: stdin, Out: stdout, Err: stderr})
	rep.Sandbox = enf.String()
	return code, err
}

// kubeconfigFiles lists the kubeconfig files of a KUBECONFIG-style list
// and the files they reference (CA, client certificate and key, token
// file), which the sandboxed kubectl must read.
func kubeconfigFiles(list string) []string {
	var out []string
	for _, p := range filepath.SplitList(list) {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			continue
		}
		out = append(out, p)
		cfg, err := clientcmd.LoadFromFile(p)
		if err != nil {
			continue
		}
		base := filepath.Dir(p)
		abs := func(f string) string {
			if f == "" || filepath.IsAbs(f) {
				return f
			}
			return filepath.Join(base, f)
		}
		add := func(f string) {
			if f = abs(f); f != "" {
				if _, err := os.Stat(f); err == nil {
					out = append(out, f)
				}
			}
		}
		for _, c := range cfg.Clusters {
			add(c.CertificateAuthority)
		}
		for _, u := range cfg.AuthInfos {
			add(u.ClientCertificate)
			add(u.ClientKey)
			add(u.TokenFile)
		}
	}
	return out
}

// serverDestination turns an API server URL into "host:port".
func serverDestination(server string) string {
	if server == "" {
		return ""
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.Port() != "" {
		return u.Host
	}
	port := "443"
	if u.Scheme == "http" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

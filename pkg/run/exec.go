package run

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/agentctl/agentctl/pkg/classify"
	tfclass "github.com/agentctl/agentctl/pkg/classify/terraform"
	"github.com/agentctl/agentctl/pkg/credentials"
	"github.com/agentctl/agentctl/pkg/policy"
	"github.com/agentctl/agentctl/pkg/redact"
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
	// Credentials, when set, issues the identity a command runs with:
	// the read identity for sandboxed reads, the deploy identity for
	// everything else that was allowed or approved. When nil, the command
	// runs with the kubeconfig the agent chose (no broker configured).
	Credentials CredentialSource
	// NoRedact turns output redaction off (it is on by default).
	NoRedact bool
	// TerraformAllow lists the parts of terraform's CLI configuration
	// the administrator allows (dev_overrides, credentials helpers).
	TerraformAllow tfclass.CLIConfigAllow
	// AdminPolicy is the policy file that may loosen (root's), named in
	// the hint when the sandbox refused a destination.
	AdminPolicy string

	pre *prestarted // see Prestart
}

// CredentialSource issues short-lived credentials (see pkg/credentials).
type CredentialSource interface {
	Acquire(ctx context.Context, t classify.Target, role credentials.Role) (*credentials.Credential, error)
}

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

// denied is what no sandboxed command may reach: the user's credential
// stores and agentctl's own files.
func (e *LocalExecutor) denied() []string {
	return append(CredentialStores(e.Home), e.Deny...)
}

// Execute implements [Executor].
func (e *LocalExecutor) Execute(ctx context.Context, a *classify.Assessment, d policy.Decision, stdio Stdio) (*ExecReport, error) {
	rep := &ExecReport{}
	env := append([]string(nil), e.Env...)
	var cred *credentials.Credential
	if e.Credentials != nil {
		role := credentials.Deploy
		if d.Action == policy.Sandbox {
			role = credentials.Read
		}
		var err error
		if cred, err = e.Credentials.Acquire(ctx, a.Target, role); err != nil {
			return rep, err
		}
		// Revoke when the command ends, fails or is interrupted: the
		// context may be cancelled by then, Release revokes anyway.
		defer cred.Release(context.WithoutCancel(ctx))
		if a.Tool == "kubectl" && cred.Kubeconfig != "" {
			if err := credentialReaches(cred.Kubeconfig, a.Target); err != nil {
				return rep, err
			}
		}
		rep.Identity = string(cred.Role) + " " + cred.Identity
		rep.LeaseID = strings.Join(cred.Leases, ",")
		env = cred.Environ(env)
	}
	out := &countingWriter{w: stdio.Stdout}
	errw := &countingWriter{w: stdio.Stderr}
	var stdout, stderr io.Writer = out, errw
	flush := func() map[string]int { return nil }
	if !e.NoRedact {
		var exact []string
		if cred != nil {
			exact = cred.Secrets()
		}
		r := redact.New(redact.Options{Exact: exact})
		wo, we := r.Writer(out), r.Writer(errw)
		stdout, stderr = wo, we
		if a.Exec.PassStdin {
			// An interactive session (exec -i, attach -i, run -i): a
			// prompt has no newline and must show at once.
			stdout, stderr = interactive{wo}, interactive{we}
		}
		flush = func() map[string]int {
			wo.Close()
			we.Close()
			counts := map[string]int{}
			for k, n := range r.Counts() {
				counts[string(k)] = n
			}
			if len(counts) == 0 {
				return nil
			}
			return counts
		}
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
		kubeconfig := a.Target.Kubeconfig
		switch {
		case cred != nil:
			kubeconfig = cred.Kubeconfig
		case a.Exec.Kubeconfig != nil:
			dir, werr := os.MkdirTemp("", "agentctl-kubeconfig-")
			if werr != nil {
				return rep, werr
			}
			defer os.RemoveAll(dir)
			kubeconfig = filepath.Join(dir, "config")
			if werr := os.WriteFile(kubeconfig, a.Exec.Kubeconfig, 0o600); werr != nil {
				return rep, werr
			}
		}
		code, err = e.kubectl(ctx, a, d, kubeconfig, env, stdin, stdout, stderr, rep)
	case "terraform", "tofu":
		code, err = e.terraform(ctx, a, d, env, Stdio{Stdin: stdin, Stdout: stdout, Stderr: stderr}, rep)
	default:
		err = fmt.Errorf("running %s is not supported yet", a.Tool)
	}
	if len(rep.Refused) > 0 {
		// The broker's own answer: say it, after the tool's output.
		fmt.Fprint(stderr, sandboxRefusal(rep.Refused, e.AdminPolicy))
	}
	rep.Redactions = flush()
	rep.ExitCode = code
	rep.OutputBytes = out.n + errw.n
	return rep, err
}

func (e *LocalExecutor) kubectl(ctx context.Context, a *classify.Assessment, d policy.Decision, kubeconfig string, env []string, stdin io.Reader, stdout, stderr io.Writer, rep *ExecReport) (int, error) {
	if kubeconfig != "" {
		env = append(withoutKey(env, "KUBECONFIG"), "KUBECONFIG="+kubeconfig)
	}
	env = append(env, a.Exec.Env...) // KUBECTL_KUBERC=false among them; KubectlMain enforces it too
	resolved, err := resolvedEnv(a)
	if err != nil {
		return 0, err
	}
	env = append(withoutKey(env, ResolvedEnv), resolved)
	if d.Action != policy.Sandbox {
		rep.Sandbox = "none (decision " + string(d.Action) + ")"
		return startEntry(ctx, e.Self, KubectlEntry, a.Exec.Args, env, a.Exec.Dir, stdin, stdout, stderr)
	}
	cfg := sandbox.Config{
		Entry: KubectlEntry,
		Argv:  a.Exec.Args,
		Env:   env,
		// No working directory: manifests arrive on stdin, so the
		// sandboxed kubectl needs nothing from the agent's tree.
		ReadOnly: kubeconfigFiles(kubeconfig),
		Deny:     e.denied(),
		Required: d.SandboxRequired,
	}
	if a.Exec.Scratch != "" {
		cfg.ReadOnly = append(cfg.ReadOnly, a.Exec.Scratch) // snapshots of input files
	}
	// kubectl keeps no discovery cache (see KubectlMain): the agent could
	// write one.
	if a.Target.Server != "" {
		// The host and port client-go dials, read as it reads them;
		// the classifier refused anything else, and so does this.
		srv, err := classify.ParseServer(a.Target.Server)
		if err != nil {
			return 0, err
		}
		cfg.Destinations = []string{srv.Dest()}
	}
	code, enf, err := e.runSandbox(ctx, cfg, stdin, stdout, stderr)
	rep.Sandbox, rep.Refused = enf.String(), enf.Refused
	return code, err
}

// sandboxRefusal is agentctl's note on destinations the sandbox refused:
// which, and how to let the command reach them.
func sandboxRefusal(refused []string, adminPolicy string) string {
	q := make([]string, len(refused))
	for i, r := range refused {
		q[i] = strconv.Quote(r)
	}
	where := "the admin policy"
	if adminPolicy != "" {
		where = adminPolicy
	}
	return fmt.Sprintf("agentctl: the sandbox refused a connection to %s: a sandboxed read reaches only the destinations agentctl grants it (for kubectl, the target's API server)\n"+
		"hint: to run this command outside the sandbox, a rule in %s (root's file: only it may loosen) must decide allow for it; `agentctl explain -- ...` shows the rule that decided sandbox\n",
		strings.Join(q, ", "), where)
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
			if u.Exec != nil && u.Exec.Command != "" {
				// A credential plugin must be runnable; it runs sandboxed.
				cmd := u.Exec.Command
				if strings.ContainsRune(cmd, filepath.Separator) {
					cmd = abs(cmd)
				}
				if p, err := exec.LookPath(cmd); err == nil {
					out = append(out, filepath.Dir(p))
				}
			}
		}
	}
	return out
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

// interactive writes each chunk through the redactor at once instead of
// holding an unterminated line for its newline.
type interactive struct{ w *redact.Writer }

func (i interactive) Write(p []byte) (int, error) {
	n, err := i.w.Write(p)
	if err == nil {
		err = i.w.FlushPartial()
	}
	return n, err
}

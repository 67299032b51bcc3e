package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentctl/agentctl/pkg/audit"
	"github.com/agentctl/agentctl/pkg/boot"
	"github.com/agentctl/agentctl/pkg/broker/client"
	"github.com/agentctl/agentctl/sandbox"
)

// jailSocket and jailBin are where the broker's client socket and the
// broker clients (agentctl and its shims) are inside the jail.
const (
	jailSocket = "/run/agentctl/broker.sock"
	jailBin    = "/run/agentctl/bin"
)

// jailProfile is what an agent needs of its own: its state dirs (under
// HOME), the model API hosts it may reach (port 443), and the families of
// variables it reads (its API key).
type jailProfile struct {
	state    []string
	hosts    []string
	env      []string // variable name prefixes
	stateEnv map[string]string
}

var jailProfiles = map[string]jailProfile{
	"claude":  {state: []string{".claude"}, hosts: []string{"api.anthropic.com"}, env: []string{"ANTHROPIC_", "CLAUDE_"}, stateEnv: map[string]string{"CLAUDE_CONFIG_DIR": ".claude"}},
	"codex":   {state: []string{".codex"}, hosts: []string{"api.openai.com"}, env: []string{"OPENAI_", "CODEX_"}, stateEnv: map[string]string{"CODEX_HOME": ".codex"}},
	"aider":   {state: []string{".aider"}, hosts: []string{"api.openai.com", "api.anthropic.com"}, env: []string{"OPENAI_", "ANTHROPIC_", "AIDER_"}},
	"generic": {},
}

// jailEnvVars is the allow-list of the jail's environment besides the
// profile's families; everything else (KUBECONFIG, AWS_*, GOOGLE_*,
// AZURE_*, VAULT_*, TF_TOKEN_*, TF_CLI_ARGS*, AGENTCTL_*, XDG_*, proxies)
// is left out.
var jailEnvVars = map[string]bool{
	"HOME": true, "USER": true, "LOGNAME": true, "SHELL": true, "TERM": true, "COLORTERM": true,
	"NO_COLOR": true, "COLUMNS": true, "LINES": true, "LANG": true, "TZ": true,
	"EDITOR": true, "VISUAL": true, "PAGER": true, "CI": true,
	// Trust anchors (a file path, no secret): an agent behind a
	// TLS-inspecting proxy, or a model gateway with a private CA, needs
	// them to reach its model API.
	"NODE_EXTRA_CA_CERTS": true, "SSL_CERT_FILE": true, "SSL_CERT_DIR": true,
}

type runOptions struct {
	Profile    string
	AllowHosts []string
	RW         []string
	Check      bool
	BestEffort bool
}

func newRunCmd(f *Factory) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run [flags] -- AGENT [ARGS...]",
		Short: "Run an agent in a jail where the broker holds every credential (Linux)",
		Long: `run starts (or reuses) this user's broker (agentctl serve) and runs AGENT
in a jail: only the project (the working directory), the profile's state dir
and --rw paths are writable, system dirs read-only, /tmp private; credential
stores, agentctl's config, state and audit log and every Unix socket but the
broker's client socket do not exist inside; its own network, PID, user and
mount namespaces (egress only to the profile's hosts and --allow-host, port
443, through a proxy), no_new_privs and a seccomp filter (ptrace,
process_vm_*, bpf, mount, keyctl, namespaces); the environment from an
allow-list. kubectl, terraform, tofu and agentctl inside are clients of the
broker. --check prints what this kernel enforces (docs/jail.md).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 0 && !o.Check {
				return &UsageError{Err: errors.New("want -- AGENT [ARGS...]")}
			}
			return runJail(cmd.Context(), f, o, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Profile, "profile", "generic", "the agent's profile: claude, codex, aider or generic")
	fl.StringArrayVar(&o.AllowHosts, "allow-host", nil, "a host (HOST or HOST:PORT, default port 443) the agent may reach through the proxy")
	fl.StringArrayVar(&o.RW, "rw", nil, "another path the agent may write")
	fl.BoolVar(&o.Check, "check", false, "print what the jail enforces on this kernel and exit (non-zero if not in full)")
	fl.BoolVar(&o.BestEffort, "best-effort", false, "run (or pass --check) with what this kernel can enforce")
	return cmd
}

// jailDenied are the paths that must not exist in the jail and that no
// grant may contain.
func jailDenied(f *Factory, sock string) []string {
	home := f.Getenv("HOME")
	var out []string
	for _, p := range []string{".kube", ".config/agentctl", ".local/state/agentctl", ".local/share/agentctl", ".aws",
		".config/gcloud", ".azure", ".terraform.d", ".terraformrc", ".tofurc", ".vault-token", ".ssh", ".docker", ".gnupg",
		".netrc", ".git-credentials", ".config/gh"} {
		if home != "" {
			out = append(out, filepath.Join(home, p))
		}
	}
	for _, k := range []string{"XDG_CONFIG_HOME", "XDG_STATE_HOME"} {
		if d := f.Getenv(k); filepath.IsAbs(d) {
			out = append(out, filepath.Join(d, "agentctl"))
		}
	}
	for _, kc := range filepath.SplitList(f.Getenv("KUBECONFIG")) {
		if filepath.IsAbs(kc) {
			out = append(out, kc)
		}
	}
	if p, err := defaultAuditPath(f); err == nil {
		out = append(out, p)
	}
	if d := stateDir(f); d != "" {
		// The lockout state and the grants (the admin config may place
		// them elsewhere): an agent that could write them could grant
		// itself.
		out = append(out, d)
	}
	if sock != "" {
		// The broker's dir holds its approver socket, lock and log: only
		// the client socket is bound in, at jailSocket.
		out = append(out, filepath.Dir(sock))
	}
	return out
}

func runJail(ctx context.Context, f *Factory, o *runOptions, argv []string) error {
	prof, ok := jailProfiles[o.Profile]
	if !ok {
		return &UsageError{Err: fmt.Errorf("unknown profile %q (want claude, codex, aider or generic)", o.Profile)}
	}
	if runtime.GOOS != "linux" {
		return &ConfigError{Err: &hintError{msg: fmt.Sprintf("agentctl run needs Linux, not %q", runtime.GOOS), hint: "run the agent as another OS user (docs/hardening.md)"}}
	}
	var dests []string
	for _, h := range append(append([]string{}, prof.hosts...), o.AllowHosts...) {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, "443")
		}
		dests = append(dests, h)
	}
	exe, err := f.Executable()
	if err != nil {
		return fmt.Errorf("cannot find agentctl's own binary: %w", err)
	}
	if o.Check {
		return jailCheck(f, o, exe)
	}
	if len(argv) == 0 {
		return &UsageError{Err: errors.New("want -- AGENT [ARGS...]")}
	}
	sock := client.Socket(f.Getenv)
	if sock == "" {
		return &ConfigError{Err: &hintError{msg: "cannot find the broker's socket: XDG_RUNTIME_DIR is not set", hint: "set AGENTCTL_SOCKET=PATH (agentctl serve --socket PATH)"}}
	}
	if err := ensureBroker(f, sock); err != nil {
		return err
	}
	project, err := os.Getwd()
	if err != nil {
		return err
	}
	home := f.Getenv("HOME")
	rw := []string{project}
	for _, s := range prof.state {
		d := filepath.Join(home, s)
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("cannot create the agent's state dir %q: %w", d, err)
		}
		rw = append(rw, d)
	}
	rw = append(rw, o.RW...)
	agent := argv[0]
	if agent == "agentctl" {
		// agentctl itself in the jail (agentctl run -- agentctl mcp): this
		// binary, a client of the broker there like the shims.
		agent = exe
	} else if !strings.Contains(agent, "/") {
		if agent, err = exec.LookPath(agent); err != nil {
			return &UsageError{Err: fmt.Errorf("agent %q: %w", argv[0], err)}
		}
	}
	agent, _ = filepath.Abs(agent)
	env := jailEnv(f, prof)
	binds := []sandbox.Bind{{Src: sock, Dst: jailSocket, Write: true}}
	for _, n := range append([]string{"agentctl"}, boot.Tools...) {
		binds = append(binds, sandbox.Bind{Src: exe, Dst: jailBin + "/" + n})
	}
	cfg := sandbox.Config{
		Argv: append([]string{agent}, argv[1:]...), Env: env, Dir: project,
		ReadWrite: rw, Destinations: dests, Deny: jailDenied(f, sock), Binds: binds,
		PrivateTmp: true, Proc: true, DenyEscapes: true, AllowUnixSockets: true, Required: !o.BestEffort,
	}
	stdio := sandbox.Stdio{In: f.IO.In, Out: f.IO.Out, Err: f.IO.ErrOut}
	code, enf, err := sandbox.Run(ctx, cfg, stdio)
	// argv[0] only: an agent's arguments may hold a prompt or a key.
	note := fmt.Sprintf("agent jail (%s, profile %s): %s", agent, o.Profile, enf.String())
	jailAudit(f, note, err)
	for _, r := range enf.Refused {
		fmt.Fprintf(f.IO.ErrOut, "agentctl: the jail refused a connection to %q\nhint: agentctl run --allow-host HOST lets the agent reach HOST\n", r)
	}
	if err != nil {
		return err
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// jailEnv is the agent's environment: the allow-list, the profile's
// families, PATH with the broker clients first, and the broker's socket.
func jailEnv(f *Factory, prof jailProfile) []string {
	env := []string{"PATH=" + jailBin + ":/usr/local/bin:/usr/bin:/bin", client.SocketEnv + "=" + jailSocket}
	for _, kv := range f.Environ {
		k, _, _ := strings.Cut(kv, "=")
		keep := jailEnvVars[k] || strings.HasPrefix(k, "LC_")
		for _, p := range prof.env {
			keep = keep || strings.HasPrefix(k, p)
		}
		if keep {
			env = append(env, kv)
		}
	}
	for k, rel := range prof.stateEnv {
		env = append(env, k+"="+filepath.Join(f.Getenv("HOME"), rel))
	}
	return env
}

// ensureBroker reuses the broker serving at sock, or starts one.
func ensureBroker(f *Factory, sock string) error {
	if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		c.Close()
		return nil
	}
	return serveBackground(f, sock, 2, nil)
}

// jailAudit appends the jail's enforcement record to the user's audit log
// (the broker's: the same path from the same config).
func jailAudit(f *Factory, note string, jerr error) {
	log, _, err := openAuditLog(f)
	if err != nil {
		fmt.Fprintf(f.IO.ErrOut, "agentctl: warning: the jail's audit record: %s\n", err)
		return
	}
	defer log.Close()
	rec := audit.NewBrokerEvent(os.Getuid(), os.Getpid(), note, errText(jerr), time.Now().UTC())
	if err := log.Append(rec); err != nil {
		fmt.Fprintf(f.IO.ErrOut, "agentctl: warning: the jail's audit record: %s\n", err)
	}
}

// jailCheck prints what the jail enforces here and fails unless all of
// it is (or --best-effort).
func jailCheck(f *Factory, o *runOptions, exe string) error {
	st := sandbox.Probe()
	cfg := sandbox.Config{
		Argv: []string{exe}, Scratch: filepath.Join(os.TempDir(), "agentctl-jail-check"),
		Binds: []sandbox.Bind{{Src: exe, Dst: jailBin + "/agentctl"}}, PrivateTmp: true, DenyEscapes: true, AllowUnixSockets: true,
	}
	r, err := sandbox.Plan(cfg, st)
	if err != nil {
		return err
	}
	e := r.Enforcement
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "NO"
	}
	w := f.IO.Out
	fmt.Fprintf(w, "landlock ABI:        %d\n", e.LandlockABI)
	fmt.Fprintf(w, "filesystem rules:    %s\n", yes(e.FS))
	fmt.Fprintf(w, "user namespace:      %s\n", yes(e.UserNS))
	fmt.Fprintf(w, "network namespace:   %s\n", yes(e.NetNS))
	fmt.Fprintf(w, "mount namespace:     %s (credential stores and sockets absent, private /tmp)\n", yes(e.MountNS))
	fmt.Fprintf(w, "pid namespace:       best effort (reported by each run)\n")
	fmt.Fprintf(w, "seccomp filter:      %s (ptrace, process_vm_*, bpf, mount, keyctl, namespaces)\n", yes(e.Seccomp))
	fmt.Fprintf(w, "tcp rules:           %s\n", yes(e.NetTCP))
	for _, m := range e.Missing {
		fmt.Fprintf(w, "missing: %s\n", m)
	}
	for _, m := range e.Weaker {
		fmt.Fprintf(w, "weaker: %s\n", m)
	}
	full := len(e.Missing) == 0 && e.FS && e.MountNS && e.NetNS && e.Seccomp
	verdict := "the jail can be enforced in full"
	if !full {
		verdict = "the jail cannot be enforced in full"
	}
	fmt.Fprintln(w, verdict)
	jailAudit(f, "agent jail check (profile "+o.Profile+"): "+e.String()+"; "+verdict, nil)
	if !full && !o.BestEffort {
		return &ConfigError{Err: &hintError{msg: "the jail cannot be enforced in full on this kernel", hint: "see what is missing above; --best-effort runs with what is there"}}
	}
	return nil
}

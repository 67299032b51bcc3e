package sandbox

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is what to run in the sandbox and what it may reach. It is data
// only: the sandbox knows nothing of kubectl or terraform.
type Config struct {
	// Argv is what to run inside: Argv[0] is an absolute path. When Entry is
	// set, Argv holds the entry's arguments instead.
	Argv []string `json:"argv"`
	// Entry names an in-process entry of the re-executed binary (see
	// [MaybeChild]), e.g. "kubectl".
	Entry string `json:"entry,omitempty"`
	// Env is the command's complete environment. Run always sets TMPDIR to
	// the scratch dir, and HOME to it unless Env sets HOME.
	Env []string `json:"env"`
	// Dir is the working directory (default: the scratch dir).
	Dir string `json:"dir,omitempty"`
	// ReadOnly lists files or dirs readable (and executable) besides the
	// system paths. They must exist.
	ReadOnly []string `json:"readOnly,omitempty"`
	// ReadWrite lists files or dirs writable. They must exist: create an
	// empty file for an output such as a terraform plan.
	ReadWrite []string `json:"readWrite,omitempty"`
	// Scratch is the command's own writable dir. When empty, Run creates
	// one (0700, under os.TempDir) and removes it afterwards.
	Scratch string `json:"scratch,omitempty"`
	// Destinations lists the "host:port" egress allowed; host may be an IP
	// or a name (resolved outside the sandbox).
	Destinations []string `json:"destinations,omitempty"`
	// Deny lists paths that must stay unreachable: credential stores, the
	// audit log, keys. A ReadOnly, ReadWrite or system path that equals or
	// contains one is refused; a grant strictly inside one (the kubeconfig
	// chosen out of ~/.kube) is an explicit exception and allowed.
	Deny []string `json:"deny,omitempty"`
	// AllowUnixSockets lets the command create Unix sockets (terraform's
	// provider plugins need them). Otherwise, on kernels whose Landlock
	// cannot control pathname Unix sockets (ABI < 9), a seccomp filter
	// refuses creating any.
	AllowUnixSockets bool `json:"allowUnixSockets,omitempty"`
	// Binds are paths mounted inside at another path (the broker's
	// client socket of `agentctl run`). Src must exist; Plan refuses one
	// that equals or contains a Deny path. They exist only with the mount
	// namespace.
	Binds []Bind `json:"binds,omitempty"`
	// PrivateTmp mounts the scratch dir at /tmp (TMPDIR stays the scratch
	// dir's own path, which is there too): the command's /tmp is its own.
	PrivateTmp bool `json:"privateTmp,omitempty"`
	// Proc mounts /proc of the child's own PID namespace (processes
	// only): the command's processes, none outside. Needs the PID
	// namespace; without it the mount fails and so does a required run.
	Proc bool `json:"proc,omitempty"`
	// DenyEscapes installs a seccomp filter that refuses what a jailed
	// agent could use against processes or the kernel outside: ptrace,
	// process_vm_readv/writev, bpf, perf_event_open, the mount API,
	// keyctl, new namespaces, module and kexec loading (see seccomp.go).
	DenyEscapes bool `json:"denyEscapes,omitempty"`
	// Required makes the sandbox fail closed: when anything essential
	// cannot be enforced, the command does not run.
	Required bool `json:"required"`

	// noMountNS keeps the child's root (Landlock alone confines the
	// filesystem): for BenchmarkSandboxMountNS only, to measure what
	// the mount namespace costs.
	noMountNS bool
}

// Bind is one path of the host mounted inside at Dst, writable or not.
type Bind struct {
	Src   string `json:"src"`
	Dst   string `json:"dst"`
	Write bool   `json:"write,omitempty"`
}

// Stdio is the command's standard streams. Nil means /dev/null.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// Destination is one parsed egress allowance.
type Destination struct {
	Host string `json:"host"`
	Port uint16 `json:"port"`
	// Loopback destinations are served by a listener on the same address
	// inside the network namespace; others through the CONNECT proxy.
	Loopback bool `json:"loopback,omitempty"`
}

// Addr is "host:port".
func (d Destination) Addr() string { return net.JoinHostPort(d.Host, strconv.Itoa(int(d.Port))) }

// ParseDestination parses "host:port".
func ParseDestination(s string) (Destination, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Destination{}, fmt.Errorf("invalid destination %q: %w", s, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return Destination{}, fmt.Errorf("invalid destination %q: port must be 1-65535", s)
	}
	if host == "" {
		return Destination{}, fmt.Errorf("invalid destination %q: empty host", s)
	}
	d := Destination{Host: strings.ToLower(host), Port: uint16(p)}
	if ip := net.ParseIP(host); ip != nil {
		d.Loopback = ip.IsLoopback()
	} else {
		d.Loopback = d.Host == "localhost"
	}
	return d, nil
}

// resolvePaths makes every path of cfg absolute and resolves symlinks, so
// that the planning step sees the inodes Landlock will grant: a ReadOnly
// entry that is a symlink to ~/.aws/credentials is checked as the latter.
// Deny paths that do not exist are kept as cleaned absolute paths. A
// symlink whose target lies inside a denied path is refused.
func resolvePaths(cfg Config) (Config, error) {
	var err error
	res := func(p string, mustExist bool) string {
		if err != nil {
			return ""
		}
		abs, e := filepath.Abs(p)
		if e != nil {
			err = fmt.Errorf("path %q: %w", p, e)
			return ""
		}
		real, e := filepath.EvalSymlinks(abs)
		if e != nil {
			if mustExist {
				err = fmt.Errorf("sandbox path %q: %w", p, e)
			}
			return abs
		}
		return real
	}
	list := func(in []string, mustExist bool) []string {
		var out []string
		for _, p := range in {
			out = append(out, res(p, mustExist))
		}
		return out
	}
	cfg.Deny = list(cfg.Deny, false)
	// A grant strictly inside a denied dir (the chosen kubeconfig in
	// ~/.kube) is allowed only when named directly, not through a symlink.
	grants := func(in []string) []string {
		var out []string
		for _, p := range in {
			r := res(p, true)
			abs, _ := filepath.Abs(p)
			if err == nil && r != filepath.Clean(abs) {
				for _, d := range cfg.Deny {
					if covers(d, r) {
						err = &DeniedPathError{Grant: p, Denied: d, Symlink: true}
					}
				}
			}
			out = append(out, r)
		}
		return out
	}
	cfg.ReadOnly = grants(cfg.ReadOnly)
	cfg.ReadWrite = grants(cfg.ReadWrite)
	var binds []Bind
	for _, b := range cfg.Binds {
		binds = append(binds, Bind{Src: res(b.Src, true), Dst: b.Dst, Write: b.Write})
	}
	cfg.Binds = binds
	if cfg.Scratch != "" {
		cfg.Scratch = res(cfg.Scratch, true)
	}
	if cfg.Dir != "" {
		cfg.Dir = res(cfg.Dir, true)
	}
	if cfg.Entry == "" && len(cfg.Argv) > 0 {
		cfg.Argv = append([]string{res(cfg.Argv[0], true)}, cfg.Argv[1:]...)
	}
	return cfg, err
}

// childEnv is cfg.Env with TMPDIR (and HOME, unless set) pointing at scratch.
func childEnv(env []string, scratch string) []string {
	out := make([]string, 0, len(env)+2)
	hasHome := false
	for _, kv := range env {
		if strings.HasPrefix(kv, "TMPDIR=") {
			continue
		}
		if strings.HasPrefix(kv, "HOME=") {
			hasHome = true
		}
		out = append(out, kv)
	}
	out = append(out, "TMPDIR="+scratch)
	if !hasHome {
		out = append(out, "HOME="+scratch)
	}
	return out
}

// prepare makes cfg ready to plan: a scratch dir when it has none (removed
// by cleanup), every path resolved, and the scratch dir as the working
// directory when none is set.
func prepare(cfg Config) (rcfg Config, cleanup func(), err error) {
	cleanup = func() {}
	if cfg.Scratch == "" {
		dir, err := os.MkdirTemp("", "agentctl-sandbox-")
		if err != nil {
			return cfg, cleanup, fmt.Errorf("sandbox scratch: %w", err)
		}
		cleanup = func() { os.RemoveAll(dir) }
		cfg.Scratch = dir
	}
	rcfg, err = resolvePaths(cfg)
	if err != nil {
		cleanup()
		return cfg, func() {}, err
	}
	if rcfg.Dir == "" {
		rcfg.Dir = rcfg.Scratch
	}
	return rcfg, cleanup, nil
}

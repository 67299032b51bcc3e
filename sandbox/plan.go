package sandbox

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
)

// SystemReadOnly are the system paths every sandboxed command may read
// (and execute): binaries, libraries, CA certificates, name-service files.
// Missing ones are skipped. /proc, /sys, /home, /root, /run and /tmp are
// not among them.
var SystemReadOnly = []string{
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
	"/etc/ssl", "/etc/pki", "/etc/ca-certificates", "/etc/crypto-policies",
	"/etc/hosts", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group",
	"/etc/localtime", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/mime.types", "/etc/os-release",
	"/dev/zero", "/dev/random", "/dev/urandom",
}

// SharedDirs hold other programs' Unix sockets and files (tmux's
// /tmp/tmux-UID, X11, an SSH agent's /tmp/ssh-*, /dev/shm): a grant that
// equals or contains one is refused, as for [Config.Deny]; a dir of the
// user's own inside /tmp (a scratch dir, a project) may be granted.
var SharedDirs = []string{"/tmp", "/var/tmp", "/dev", "/dev/shm"}

// RuntimeDirs hold daemons' and sessions' sockets ($XDG_RUNTIME_DIR is
// /run/user/UID; agentctl's inbox socket is in it): nothing in them, on
// them or above them may be granted.
var RuntimeDirs = []string{"/run", "/var/run"}

// SystemReadWrite are the device files every command may write.
var SystemReadWrite = []string{"/dev/null"}

// Rules is the outcome of [Plan]: what the child will enforce.
type Rules struct {
	// ABI is the Landlock ABI the ruleset is built for (0: no Landlock).
	ABI int `json:"abi"`
	// Strict asks go-landlock for the exact ABI (fail instead of
	// downgrading); set when Required.
	Strict bool `json:"strict"`
	// Namespaces asks for new user and network namespaces.
	Namespaces bool `json:"namespaces"`
	// MountNS asks the child to replace its root with one that holds
	// only the granted paths (the child is in its own mount namespace
	// whenever it has the other namespaces).
	MountNS bool `json:"mountNS"`
	// Scratch is the scratch dir, where the child attaches its new root
	// before pivoting into it.
	Scratch string `json:"scratch,omitempty"`
	// SystemReadOnly and SystemReadWrite may be missing; ReadOnly and
	// ReadWrite must exist.
	SystemReadOnly  []string `json:"systemReadOnly"`
	SystemReadWrite []string `json:"systemReadWrite"`
	ReadOnly        []string `json:"readOnly"`
	ReadWrite       []string `json:"readWrite"`
	// Destinations are the parsed egress allowances.
	Destinations []Destination `json:"destinations"`
	// Proxy is set when a non-loopback destination needs the in-namespace
	// CONNECT proxy.
	Proxy bool `json:"proxy"`
	// Binds and PrivateTmp are Config's (PrivateTmp: the scratch dir at
	// /tmp); DenyEscapes asks for the escape filter of seccomp.go.
	Binds       []Bind `json:"binds,omitempty"`
	PrivateTmp  bool   `json:"privateTmp,omitempty"`
	Proc        bool   `json:"proc,omitempty"`
	DenyEscapes bool   `json:"denyEscapes,omitempty"`
	// DenyUnixSockets asks for the seccomp filter against creating Unix
	// sockets (Landlock ABI < 9 and the config does not allow them).
	DenyUnixSockets bool `json:"denyUnixSockets"`
	// Enforcement is what these rules enforce on this kernel.
	Enforcement Enforcement `json:"enforcement"`
}

// Enforcement is what the sandbox enforced (or, from [Plan], will
// enforce). It belongs in the decision and audit records.
type Enforcement struct {
	LandlockABI int  `json:"landlockABI"`
	FS          bool `json:"fs"`
	NetTCP      bool `json:"netTCP"`
	Scoped      bool `json:"scoped"`
	UnixSockets bool `json:"unixSockets"`
	UserNS      bool `json:"userNS"`
	NetNS       bool `json:"netNS"`
	// Seccomp: the escape filter (ptrace, bpf, mount, keyctl, …) is
	// installed (Config.DenyEscapes).
	Seccomp bool `json:"seccomp,omitempty"`
	// MountNS: only the granted paths exist inside (a root of bind
	// mounts); no socket, file or device outside them can be reached.
	MountNS bool `json:"mountNS"`
	// Missing lists what `sandbox: required` needs and was not enforced.
	Missing []string `json:"missing,omitempty"`
	// Weaker lists hardening the kernel's Landlock ABI lacks; the
	// namespaces cover most of it (see docs/sandbox.md).
	Weaker []string `json:"weaker,omitempty"`
	// Refused lists the destinations (host:port) the command asked the
	// egress broker for and was refused, as not granted: the sandbox's
	// own answer, not a guess from the command's output.
	Refused []string `json:"refused,omitempty"`
}

// String summarises e in one line, e.g.
// "landlock=7 fs netns userns tcp scoped; weaker: pathname unix sockets (ABI<9)".
func (e Enforcement) String() string {
	parts := []string{fmt.Sprintf("landlock=%d", e.LandlockABI)}
	for _, f := range []struct {
		on   bool
		name string
	}{{e.FS, "fs"}, {e.NetNS, "netns"}, {e.UserNS, "userns"}, {e.MountNS, "mountns"}, {e.NetTCP, "tcp"}, {e.Scoped, "scoped"}, {e.UnixSockets, "unix"}, {e.Seccomp, "seccomp"}} {
		if f.on {
			parts = append(parts, f.name)
		}
	}
	s := strings.Join(parts, " ")
	if len(e.Missing) > 0 {
		s += "; missing: " + strings.Join(e.Missing, ", ")
	}
	if len(e.Weaker) > 0 {
		s += "; weaker: " + strings.Join(e.Weaker, ", ")
	}
	if len(e.Refused) > 0 {
		s += "; refused: " + strings.Join(e.Refused, ", ")
	}
	return s
}

// ErrNotEnforceable is returned (wrapped in a *NotEnforceableError) when
// cfg.Required and something essential cannot be enforced.
var ErrNotEnforceable = errors.New("sandbox cannot be enforced")

// NotEnforceableError names what could not be enforced.
type NotEnforceableError struct{ Missing []string }

func (e *NotEnforceableError) Error() string {
	return "sandbox required but not enforceable here: " + strings.Join(e.Missing, "; ")
}

// Hint says how to proceed.
func (e *NotEnforceableError) Hint() string { return requiredHint }

// DeniedPathError is a config whose grant would expose a denied path.
type DeniedPathError struct {
	Grant, Denied string
	Symlink       bool // Grant is a symlink into Denied
}

func (e *DeniedPathError) Error() string {
	if e.Symlink {
		return fmt.Sprintf("sandbox: grant %q is a symlink into denied path %q", e.Grant, e.Denied)
	}
	return fmt.Sprintf("sandbox: grant %q would expose denied path %q", e.Grant, e.Denied)
}

// Hint says how to proceed.
func (e *DeniedPathError) Hint() string {
	return "grant the exact files the command needs instead of a parent dir, and no symlinks into credential stores"
}

func (e *NotEnforceableError) Unwrap() error { return ErrNotEnforceable }

// Plan works out the rules for cfg on a kernel with status st. It is pure:
// cfg's paths should already be absolute and resolved (Run does that).
// It refuses a config whose grants cover a Deny path, and, when
// cfg.Required, a kernel that lacks anything essential.
func Plan(cfg Config, st Status) (Rules, error) {
	if cfg.Entry == "" && (len(cfg.Argv) == 0 || !filepath.IsAbs(cfg.Argv[0])) {
		return Rules{}, fmt.Errorf("sandbox: argv[0] must be an absolute path, got %q", strings.Join(cfg.Argv, " "))
	}
	r := Rules{
		ABI:             st.LandlockABI,
		Strict:          cfg.Required,
		Namespaces:      st.UserNS && st.NetNS,
		SystemReadOnly:  SystemReadOnly,
		SystemReadWrite: SystemReadWrite,
		ReadOnly:        cleanAll(cfg.ReadOnly),
		ReadWrite:       cleanAll(cfg.ReadWrite),
	}
	if cfg.Entry == "" {
		r.ReadOnly = append(r.ReadOnly, filepath.Clean(cfg.Argv[0]))
	}
	if cfg.Scratch != "" {
		r.Scratch = filepath.Clean(cfg.Scratch)
		r.ReadWrite = append(r.ReadWrite, r.Scratch)
	}
	// The new root is attached over the scratch dir: without one, the
	// child keeps the whole filesystem (Landlock still applies).
	r.MountNS = r.Namespaces && r.Scratch != "" && !cfg.noMountNS
	if cfg.Dir != "" && !coveredByAny(filepath.Clean(cfg.Dir), append(r.ReadOnly, r.ReadWrite...)) {
		return Rules{}, fmt.Errorf("sandbox: working dir %q is neither read-only nor writable in the sandbox", cfg.Dir)
	}
	for _, d := range cfg.Deny {
		d = filepath.Clean(d)
		for _, set := range [][]string{r.SystemReadOnly, r.SystemReadWrite, r.ReadOnly, r.ReadWrite} {
			for _, p := range set {
				if covers(p, d) {
					return Rules{}, &DeniedPathError{Grant: p, Denied: d}
				}
			}
		}
	}
	for _, d := range append(append([]string(nil), SharedDirs...), RuntimeDirs...) {
		for _, set := range [][]string{r.ReadOnly, r.ReadWrite} {
			for _, p := range set {
				if covers(p, d) {
					return Rules{}, &DeniedPathError{Grant: p, Denied: d}
				}
			}
		}
	}
	for _, d := range RuntimeDirs {
		for _, set := range [][]string{r.ReadOnly, r.ReadWrite} {
			for _, p := range set {
				if covers(d, p) {
					return Rules{}, &DeniedPathError{Grant: p, Denied: d}
				}
			}
		}
	}
	for _, b := range cfg.Binds {
		if !filepath.IsAbs(b.Src) || !filepath.IsAbs(b.Dst) || filepath.Clean(b.Dst) == "/" {
			return Rules{}, fmt.Errorf("sandbox: bind %q on %q: want absolute paths, not the root", b.Src, b.Dst)
		}
		for _, d := range cfg.Deny {
			if covers(b.Src, filepath.Clean(d)) {
				return Rules{}, &DeniedPathError{Grant: b.Src, Denied: filepath.Clean(d)}
			}
		}
		r.Binds = append(r.Binds, Bind{Src: filepath.Clean(b.Src), Dst: filepath.Clean(b.Dst), Write: b.Write})
	}
	r.PrivateTmp = cfg.PrivateTmp && r.Scratch != ""
	r.Proc = cfg.Proc && r.MountNS
	r.DenyEscapes = cfg.DenyEscapes
	for _, s := range cfg.Destinations {
		d, err := ParseDestination(s)
		if err != nil {
			return Rules{}, fmt.Errorf("sandbox: %w", err)
		}
		r.Destinations = append(r.Destinations, d)
		if !d.Loopback {
			r.Proxy = true
		}
	}
	f := FeaturesOf(st.LandlockABI)
	e := Enforcement{
		LandlockABI: st.LandlockABI, FS: f.FS, NetTCP: f.TCP && r.Namespaces,
		Scoped: f.Scoped, UnixSockets: f.UnixSockets || r.MountNS || !cfg.AllowUnixSockets,
		UserNS: r.Namespaces, NetNS: r.Namespaces, MountNS: r.MountNS,
		Seccomp: r.DenyEscapes,
	}
	e.Missing = essentialMissing(st)
	if !f.TCP {
		e.Weaker = append(e.Weaker, "tcp connect/bind rules (Landlock ABI<4)")
	}
	if !f.Scoped {
		e.Weaker = append(e.Weaker, "signal and abstract unix socket scoping (Landlock ABI<6)")
	}
	r.DenyUnixSockets = !f.UnixSockets && !cfg.AllowUnixSockets
	if !e.UnixSockets {
		e.Weaker = append(e.Weaker, "pathname unix sockets outside the sandbox (Landlock ABI<9, no mount namespace)")
	}
	if (len(r.Binds) > 0 || r.PrivateTmp) && !r.MountNS {
		e.Missing = append(e.Missing, "mount namespace (for the bind mounts and the private /tmp)")
	}
	if r.DenyEscapes {
		if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
			e.Missing = append(e.Missing, "seccomp escape filter (no filter for this architecture)")
			e.Seccomp = false
		}
	}
	r.Enforcement = e
	if cfg.Required && len(e.Missing) > 0 {
		return Rules{}, &NotEnforceableError{Missing: e.Missing}
	}
	return r, nil
}

// covers reports whether granting p grants d: p equals d or contains it.
func covers(p, d string) bool {
	if p == d || p == "/" {
		return true
	}
	return strings.HasPrefix(d, p+"/")
}

func coveredByAny(d string, grants []string) bool {
	for _, g := range grants {
		if covers(g, d) {
			return true
		}
	}
	return false
}

func cleanAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, p := range in {
		out = append(out, filepath.Clean(p))
	}
	return out
}

// withoutMountNS is e after the child failed to build its root (best
// effort only; with Required that failure is fatal).
func (e Enforcement) withoutMountNS(err error, denyUnix bool) Enforcement {
	e.MountNS = false
	e.UnixSockets = FeaturesOf(e.LandlockABI).UnixSockets || denyUnix
	e.Weaker = append(e.Weaker, "mount namespace: "+err.Error())
	return e
}

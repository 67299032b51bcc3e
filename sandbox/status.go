package sandbox

import (
	"fmt"
	"os"
	"strings"

	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// Status is what this kernel can enforce, as found by [Probe].
type Status struct {
	// LandlockABI is the kernel's Landlock ABI version, 0 when Landlock is
	// not available.
	LandlockABI int `json:"landlockABI"`
	// LandlockError says why Landlock is unavailable.
	LandlockError string `json:"landlockError,omitempty"`
	// UserNS and NetNS report whether an unprivileged process can create
	// a user namespace and, inside it, a network namespace.
	UserNS bool `json:"userNS"`
	NetNS  bool `json:"netNS"`
	// NamespaceError says why namespaces are unavailable.
	NamespaceError string `json:"namespaceError,omitempty"`
	// Hints are the sysctls that commonly explain a failure.
	Hints []string `json:"hints,omitempty"`
}

// Probe finds what this kernel can enforce. It starts one short-lived
// child (the re-executed binary, see [MaybeChild]) to try the namespaces.
func Probe() Status {
	st := probeLandlock()
	if err := probeNamespaces(); err != nil {
		st.NamespaceError = err.Error()
		st.Hints = namespaceHints()
	} else {
		st.UserNS, st.NetNS = true, true
	}
	return st
}

func probeLandlock() Status {
	var st Status
	abi, err := llsys.LandlockGetABIVersion()
	switch {
	case err != nil:
		st.LandlockError = fmt.Sprintf("landlock unavailable: %v", err)
		if lsm, e := os.ReadFile("/sys/kernel/security/lsm"); e == nil && !strings.Contains(string(lsm), "landlock") {
			st.LandlockError += " (not in the kernel's lsm= list: " + strings.TrimSpace(string(lsm)) + ")"
		}
	default:
		st.LandlockABI = abi
	}
	return st
}

// namespaceHints reads the sysctls that gate unprivileged user namespaces.
func namespaceHints() []string {
	var hints []string
	for _, f := range []string{
		"/proc/sys/kernel/unprivileged_userns_clone",
		"/proc/sys/user/max_user_namespaces",
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
	} {
		if b, err := os.ReadFile(f); err == nil {
			hints = append(hints, strings.TrimPrefix(f, "/proc/sys/")+" = "+strings.TrimSpace(string(b)))
		}
	}
	return hints
}

// Features is what a Landlock ABI version lets the sandbox enforce.
type Features struct {
	FS          bool `json:"fs"`          // ABI 1: filesystem access rules
	Truncate    bool `json:"truncate"`    // ABI 3: truncation is a controlled right
	TCP         bool `json:"tcp"`         // ABI 4: TCP connect/bind port rules
	Scoped      bool `json:"scoped"`      // ABI 6: abstract Unix sockets and signals scoped to the sandbox
	UnixSockets bool `json:"unixSockets"` // ABI 9: connecting to pathname Unix sockets outside is controlled
	UDP         bool `json:"udp"`         // ABI 10: UDP bind/send port rules
}

// Summary is Status with what follows from it, for `sandbox status
// --output json`.
type Summary struct {
	Status
	Features Features `json:"features"`
	// RequiredOK says whether `sandbox: required` can be met here;
	// Missing says what it lacks and Hint how to proceed.
	RequiredOK bool     `json:"requiredOK"`
	Missing    []string `json:"missing,omitempty"`
	Hint       string   `json:"hint,omitempty"`
}

// Summary derives the features and whether `sandbox: required` can be met.
func (st Status) Summary() Summary {
	s := Summary{Status: st, Features: FeaturesOf(st.LandlockABI), Missing: essentialMissing(st)}
	s.RequiredOK = len(s.Missing) == 0
	if !s.RequiredOK {
		s.Hint = requiredHint
	}
	return s
}

// FeaturesOf maps an ABI version to its features.
func FeaturesOf(abi int) Features {
	return Features{
		FS: abi >= 1, Truncate: abi >= 3, TCP: abi >= 4,
		Scoped: abi >= 6, UnixSockets: abi >= 9, UDP: abi >= 10,
	}
}

// Report is the human report printed by `agentctl sandbox status`.
func (st Status) Report() string {
	var b strings.Builder
	yes := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "NO"
	}
	f := FeaturesOf(st.LandlockABI)
	fmt.Fprintf(&b, "landlock ABI:               %d\n", st.LandlockABI)
	if st.LandlockError != "" {
		fmt.Fprintf(&b, "  %s\n", st.LandlockError)
	}
	fmt.Fprintf(&b, "user namespace:             %s\n", yes(st.UserNS))
	fmt.Fprintf(&b, "network namespace:          %s\n", yes(st.NetNS))
	if st.NamespaceError != "" {
		fmt.Fprintf(&b, "  %s\n", st.NamespaceError)
		for _, h := range st.Hints {
			fmt.Fprintf(&b, "  %s\n", h)
		}
	}
	b.WriteString("\nenforced here:\n")
	fmt.Fprintf(&b, "  filesystem rules:         %s\n", yes(f.FS))
	fmt.Fprintf(&b, "  network isolation:        %s (egress only to allowed destinations, via the broker)\n", yes(st.NetNS))
	fmt.Fprintf(&b, "  TCP connect/bind rules:   %s (Landlock ABI 4)\n", yes(f.TCP))
	fmt.Fprintf(&b, "  signal/abstract-socket scoping: %s (Landlock ABI 6)\n", yes(f.Scoped))
	fmt.Fprintf(&b, "  only granted paths exist: %s (mount namespace: a root of bind mounts)\n", yes(st.UserNS))
	fmt.Fprintf(&b, "  pathname Unix sockets:    %s (unreachable outside the grants: mount namespace, or Landlock ABI 9)\n", yes(st.UserNS || f.UnixSockets))
	fmt.Fprintf(&b, "  ptrace of agentctl:       %s (Landlock ABI 1)\n", yes(f.FS))
	if missing := essentialMissing(st); len(missing) > 0 {
		fmt.Fprintf(&b, "\nsandbox: required cannot be met: %s\n", strings.Join(missing, "; "))
		b.WriteString("hint: " + requiredHint + "\n")
	} else {
		b.WriteString("\nsandbox: required can be met\n")
	}
	return b.String()
}

const requiredHint = "enable Landlock (lsm=...,landlock) and unprivileged user namespaces " +
	"(on Ubuntu 24.04: sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for agentctl; " +
	"in a container: a seccomp profile that allows clone/unshare of user namespaces), " +
	"or set `sandbox: best-effort` in the policy to run with what is enforced"

// essentialMissing lists what `sandbox: required` needs and st lacks.
func essentialMissing(st Status) []string {
	var m []string
	if !st.UserNS {
		m = append(m, "user namespace")
	}
	if !st.NetNS {
		m = append(m, "network namespace")
	}
	if st.LandlockABI < 1 {
		m = append(m, "landlock filesystem rules")
	}
	return m
}

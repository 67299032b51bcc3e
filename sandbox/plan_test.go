package sandbox

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func fullStatus(abi int) Status { return Status{LandlockABI: abi, UserNS: true, NetNS: true} }

func TestPlanABIMatrix(t *testing.T) {
	cfg := Config{Entry: "kubectl", Destinations: []string{"127.0.0.1:6443"}}
	tests := []struct {
		name         string
		st           Status
		required     bool
		unixOK       bool
		scratch      string
		wantMountNS  bool
		wantErr      bool
		wantTCP      bool
		wantScoped   bool
		wantUnix     bool
		wantSeccomp  bool
		wantMissing  []string
		wantWeakerIn string
	}{
		{name: "ABI 0 required: refused", st: fullStatus(0), required: true, wantErr: true},
		{name: "ABI 0 best effort: runs without landlock", st: fullStatus(0), wantMissing: []string{"landlock filesystem rules"}, wantUnix: true, wantSeccomp: true, wantWeakerIn: "tcp"},
		{name: "ABI 1 required: fs only", st: fullStatus(1), required: true, wantUnix: true, wantSeccomp: true, wantWeakerIn: "tcp"},
		{name: "ABI 3 best effort: no tcp rules", st: fullStatus(3), wantUnix: true, wantSeccomp: true, wantWeakerIn: "tcp"},
		{name: "ABI 4 required: tcp rules, no scoping", st: fullStatus(4), required: true, wantTCP: true, wantUnix: true, wantSeccomp: true, wantWeakerIn: "scoping"},
		{name: "ABI 6 required: tcp and scoping", st: fullStatus(6), required: true, wantTCP: true, wantScoped: true, wantUnix: true, wantSeccomp: true},
		{name: "ABI 6 unix sockets allowed: weaker", st: fullStatus(6), required: true, unixOK: true, wantTCP: true, wantScoped: true, wantWeakerIn: "pathname unix"},
		{name: "ABI 6 unix sockets allowed, own root: none outside exists", st: fullStatus(6), required: true, unixOK: true, scratch: "/tmp/s",
			wantTCP: true, wantScoped: true, wantUnix: true, wantMountNS: true},
		{name: "ABI 1 unix sockets allowed, own root: none outside exists", st: fullStatus(1), unixOK: true, scratch: "/tmp/s",
			wantUnix: true, wantMountNS: true, wantWeakerIn: "tcp"},
		{name: "no user namespace: no own root either", st: Status{LandlockABI: 6}, unixOK: true, scratch: "/tmp/s",
			wantScoped: true, wantMissing: []string{"user namespace", "network namespace"}, wantWeakerIn: "pathname unix"},
		{name: "ABI 9 unix sockets allowed: landlock controls them", st: fullStatus(9), required: true, unixOK: true, wantTCP: true, wantScoped: true, wantUnix: true},
		{name: "no user namespace required: refused", st: Status{LandlockABI: 6}, required: true, wantErr: true},
		{name: "no user namespace best effort: no tcp rules without netns", st: Status{LandlockABI: 6}, wantScoped: true, wantUnix: true, wantSeccomp: true,
			wantMissing: []string{"user namespace", "network namespace"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			c.Required, c.AllowUnixSockets, c.Scratch = tt.required, tt.unixOK, tt.scratch
			r, err := Plan(c, tt.st)
			if tt.wantErr {
				var ne *NotEnforceableError
				if !errors.As(err, &ne) || !errors.Is(err, ErrNotEnforceable) {
					t.Fatalf("Plan() err = %v, want NotEnforceableError", err)
				}
				if !strings.Contains(ne.Hint(), "best-effort") {
					t.Errorf("hint %q does not say how to proceed", ne.Hint())
				}
				return
			}
			if err != nil {
				t.Fatalf("Plan() err = %v", err)
			}
			e := r.Enforcement
			if e.NetTCP != tt.wantTCP || e.Scoped != tt.wantScoped || e.UnixSockets != tt.wantUnix || r.DenyUnixSockets != tt.wantSeccomp {
				t.Errorf("enforcement = %v (seccomp %v), want tcp=%v scoped=%v unix=%v seccomp=%v", e, r.DenyUnixSockets, tt.wantTCP, tt.wantScoped, tt.wantUnix, tt.wantSeccomp)
			}
			if e.MountNS != tt.wantMountNS || r.MountNS != tt.wantMountNS {
				t.Errorf("mount namespace: enforcement %v, rules %v, want %v", e.MountNS, r.MountNS, tt.wantMountNS)
			}
			if !slices.Equal(e.Missing, tt.wantMissing) {
				t.Errorf("missing = %q, want %q", e.Missing, tt.wantMissing)
			}
			if tt.wantWeakerIn != "" && !strings.Contains(strings.Join(e.Weaker, ","), tt.wantWeakerIn) {
				t.Errorf("weaker = %q, want it to mention %q", e.Weaker, tt.wantWeakerIn)
			}
			if r.Strict != tt.required {
				t.Errorf("strict = %v, want %v", r.Strict, tt.required)
			}
		})
	}
}

func TestPlanDeny(t *testing.T) {
	home := "/home/u"
	deny := []string{home + "/.kube", home + "/.aws", home + "/.ssh", home + "/.local/state/agentctl/audit.jsonl"}
	tests := []struct {
		name      string
		ro, rw    []string
		dir       string
		wantError string
	}{
		{name: "home dir as input exposes credential stores", ro: []string{home}, wantError: `grant "/home/u" would expose denied path "/home/u/.kube"`},
		{name: "writable home exposes them too", rw: []string{home}, wantError: "would expose denied path"},
		{name: "the denied dir itself", ro: []string{home + "/.aws"}, wantError: `denied path "/home/u/.aws"`},
		{name: "root dir", ro: []string{"/"}, wantError: "would expose"},
		{name: "audit log dir", rw: []string{home + "/.local/state/agentctl"}, wantError: "audit.jsonl"},
		{name: "chosen kubeconfig inside ~/.kube is an explicit exception", ro: []string{home + "/.kube/agentctl-read.yaml"}},
		{name: "sibling with a common prefix is not covered", ro: []string{home + "/.kube-other", home + "/.awsome"}},
		{name: "project dir is fine", ro: []string{home + "/src/app"}, rw: []string{home + "/src/app/.terraform"}},
		{name: "/tmp holds other programs' sockets (tmux, ssh-agent)", rw: []string{"/tmp"}, wantError: `grant "/tmp" would expose denied path "/tmp"`},
		{name: "a project dir in /tmp is fine", rw: []string{"/tmp/app"}},
		{name: "/dev as a whole", ro: []string{"/dev"}, wantError: `denied path "/dev"`},
		{name: "/ covers /run", ro: []string{"/"}, wantError: "would expose"},
		{name: "anything in /run ($XDG_RUNTIME_DIR, the inbox socket)", rw: []string{"/run/user/1000/agentctl"}, wantError: `denied path "/run"`},
		{name: "/var holds /var/tmp and /var/run", ro: []string{"/var"}, wantError: `grant "/var" would expose denied path "/var/tmp"`},
		{name: "/run itself", ro: []string{"/run"}, wantError: `grant "/run" would expose denied path "/run"`},
		{name: "/dev/shm", rw: []string{"/dev/shm"}, wantError: `denied path "/dev`},
		{name: "working dir outside every grant", ro: []string{home + "/src/app"}, dir: home + "/elsewhere", wantError: "working dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Entry: "x", ReadOnly: tt.ro, ReadWrite: tt.rw, Deny: deny, Dir: tt.dir, Scratch: "/tmp/s", Required: true}
			_, err := Plan(cfg, fullStatus(6))
			if tt.wantError == "" {
				if err != nil {
					t.Fatalf("Plan() err = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantError) {
				t.Fatalf("Plan() err = %v, want it to contain %q", err, tt.wantError)
			}
		})
	}
}

func TestPlanDestinations(t *testing.T) {
	tests := []struct {
		name      string
		dests     []string
		wantProxy bool
		wantLoop  []bool
		wantErr   bool
	}{
		{name: "loopback test cluster: listener, no proxy", dests: []string{"127.0.0.1:6443"}, wantLoop: []bool{true}},
		{name: "localhost is loopback", dests: []string{"localhost:8443"}, wantLoop: []bool{true}},
		{name: "ipv6 loopback", dests: []string{"[::1]:6443"}, wantLoop: []bool{true}},
		{name: "provider endpoint by name goes through the proxy", dests: []string{"127.0.0.1:6443", "api.example.test:443"}, wantProxy: true, wantLoop: []bool{true, false}},
		{name: "missing port", dests: []string{"example.test"}, wantErr: true},
		{name: "port zero", dests: []string{"127.0.0.1:0"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Plan(Config{Entry: "x", Destinations: tt.dests}, fullStatus(6))
			if tt.wantErr != (err != nil) {
				t.Fatalf("Plan() err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if r.Proxy != tt.wantProxy {
				t.Errorf("proxy = %v, want %v", r.Proxy, tt.wantProxy)
			}
			for i, d := range r.Destinations {
				if d.Loopback != tt.wantLoop[i] {
					t.Errorf("%s loopback = %v, want %v", d.Addr(), d.Loopback, tt.wantLoop[i])
				}
			}
		})
	}
}

func TestPlanArgv(t *testing.T) {
	if _, err := Plan(Config{Argv: []string{"terraform", "plan"}}, fullStatus(6)); err == nil {
		t.Fatal("relative argv[0] accepted")
	}
	r, err := Plan(Config{Argv: []string{"/opt/tf/terraform", "plan"}}, fullStatus(6))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(r.ReadOnly, "/opt/tf/terraform") {
		t.Errorf("read-only = %q, want the executable in it", r.ReadOnly)
	}
}

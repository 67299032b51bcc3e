package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The escape suite: each test makes one attempt from inside the sandbox
// that must fail, after an allowed read of the real test cluster that must
// succeed (see escapeEnv.mustBlock).

func TestEscapeReadCredentialStores(t *testing.T) {
	e := newEscapeEnv(t)
	for _, f := range credentialFiles {
		t.Run(f, func(t *testing.T) {
			out, _ := e.attempt(t, "read", filepath.Join(e.home, f))
			if !unreachable(out) {
				t.Errorf("want permission denied, or no such file (the file is not in the sandbox's root):\n%s", out)
			}
		})
	}
}

func TestEscapeWriteOutsideScratch(t *testing.T) {
	e := newEscapeEnv(t)
	outside := t.TempDir()
	for name, p := range map[string]string{
		"home dotfile":        filepath.Join(e.home, ".bashrc"),
		"other tmp dir":       filepath.Join(outside, "x"),
		"chosen kubeconfig":   e.kubeconfig,
		"credential store":    filepath.Join(e.home, ".aws/config"),
		"agentctl audit log":  filepath.Join(e.home, ".local/state/agentctl/audit.jsonl"),
		"system dir (as uid)": "/usr/local/agentctl-escape",
	} {
		t.Run(name, func(t *testing.T) {
			before, _ := os.ReadFile(p)
			e.attempt(t, "write", p)
			after, _ := os.ReadFile(p)
			if string(after) != string(before) {
				t.Errorf("%s changed from %q to %q", p, before, after)
			}
		})
	}
	t.Run("scratch itself is writable", func(t *testing.T) {
		out, _ := runSandbox(t, e.config("write", filepath.Join(e.scratch, "ok")))
		if !strings.Contains(out, "escaped: wrote") {
			t.Errorf("writing to scratch failed:\n%s", out)
		}
	})
}

func TestEscapeSymlinkPlantedInScratch(t *testing.T) {
	e := newEscapeEnv(t)
	link := filepath.Join(e.scratch, "innocent.yaml")
	if err := os.Symlink(filepath.Join(e.home, ".aws/credentials"), link); err != nil {
		t.Fatal(err)
	}
	e.attempt(t, "read", link)
}

func TestEscapeSymlinkMadeInside(t *testing.T) {
	e := newEscapeEnv(t)
	e.attempt(t, "symlink", filepath.Join(e.scratch, "l"), filepath.Join(e.home, ".ssh/id_ed25519"))
}

func TestEscapeHardLinkToCredential(t *testing.T) {
	e := newEscapeEnv(t)
	e.attempt(t, "hardlink", filepath.Join(e.scratch, "h"), filepath.Join(e.home, ".aws/credentials"))
}

func TestEscapeLoopbackOtherPort(t *testing.T) {
	e := newEscapeEnv(t)
	tr := streamTrap(t, "tcp", "127.0.0.1:0")
	e.attempt(t, "tcp", tr.addr)
	tr.assertUntouched(t)
}

func TestEscapeNonAllowlistedAddress(t *testing.T) {
	e := newEscapeEnv(t)
	tr := streamTrap(t, "tcp", "127.0.0.2:0")
	e.attempt(t, "tcp", tr.addr)
	tr.assertUntouched(t)
}

func TestEscapeThroughProxyToOtherDestination(t *testing.T) {
	e := newEscapeEnv(t)
	e.extraDest = []string{"registry.allowed.test:443"} // starts the proxy; never dialled
	tr := streamTrap(t, "tcp", "127.0.0.1:0")
	for _, dest := range []string{tr.addr, e.server[:strings.LastIndex(e.server, ":")] + ":22", "exfil.example.test:443"} {
		t.Run(dest, func(t *testing.T) {
			out, _ := e.attempt(t, "proxy", dest)
			if !strings.Contains(out, "403") {
				t.Errorf("want the proxy to refuse with 403:\n%s", out)
			}
		})
	}
	tr.assertUntouched(t)
}

func TestEscapeUDP(t *testing.T) {
	e := newEscapeEnv(t)
	tr := udpTrap(t)
	out, _ := runSandbox(t, e.config("udp", tr.addr))
	if !strings.Contains(out, "allowed: ") || strings.Contains(out, "allowed: FAILED") {
		t.Errorf("allowed read failed:\n%s", out)
	}
	tr.assertUntouched(t)
}

func TestEscapeDNS(t *testing.T) {
	e := newEscapeEnv(t)
	t.Run("resolver of its choice", func(t *testing.T) {
		tr := udpTrap(t)
		e.attempt(t, "dns", "exfil.example.test", tr.addr)
		tr.assertUntouched(t)
	})
	t.Run("system resolver", func(t *testing.T) {
		e.attempt(t, "dns", "example.com", "")
	})
}

func TestEscapeUnixSocket(t *testing.T) {
	e := newEscapeEnv(t)
	t.Run("pathname socket of a daemon", func(t *testing.T) {
		tr := streamTrap(t, "unix", filepath.Join(t.TempDir(), "agent.sock"))
		e.attempt(t, "unix", tr.addr)
		tr.assertUntouched(t)
	})
	t.Run("abstract socket", func(t *testing.T) {
		tr := streamTrap(t, "unix", fmt.Sprintf("@agentctl-escape-%d", os.Getpid()))
		e.attempt(t, "unix", tr.addr)
		tr.assertUntouched(t)
	})
}

func TestEscapePtraceAgentctl(t *testing.T) {
	e := newEscapeEnv(t)
	e.attempt(t, "ptrace", strconv.Itoa(os.Getpid()))
}

func TestEscapeProcOfAgentctl(t *testing.T) {
	e := newEscapeEnv(t)
	for _, f := range []string{"environ", "mem", "cmdline", "fd/0"} {
		t.Run(f, func(t *testing.T) { e.attempt(t, "proc", f, strconv.Itoa(os.Getpid())) })
	}
}

func TestEscapeSignalAgentctl(t *testing.T) {
	e := newEscapeEnv(t)
	if probeOnce().LandlockABI < 6 {
		t.Skip("signal scoping needs Landlock ABI 6")
	}
	e.attempt(t, "signal", strconv.Itoa(os.Getpid()))
}

// unreachable says whether a failed open's message is a denial by
// Landlock or the file's absence from the sandbox's root.
func unreachable(out string) bool {
	out = strings.Join(strings.Fields(out), " ")
	return strings.Contains(out, "permission denied") || strings.Contains(out, "no such file or directory")
}

// A terraform-like config (AllowUnixSockets, as provider plugins need)
// must not reach Unix sockets outside the sandbox either: the child's
// root holds only the granted paths, whatever the Landlock ABI.
func TestEscapeUnixSocketWhenAllowed(t *testing.T) {
	e := newEscapeEnv(t)
	attempt := func(t *testing.T, addr string) string {
		cfg := e.config("unix", addr)
		cfg.AllowUnixSockets = true
		out, _ := e.mustBlock(t, cfg)
		return out
	}
	t.Run("pathname socket in /tmp, like tmux's", func(t *testing.T) {
		dir, err := os.MkdirTemp("", "tmux-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		tr := streamTrap(t, "unix", filepath.Join(dir, "default"))
		if out := attempt(t, tr.addr); !strings.Contains(out, "no such file or directory") {
			t.Errorf("want the socket not to exist inside:\n%s", out)
		}
		tr.assertUntouched(t)
	})
	t.Run("abstract socket", func(t *testing.T) {
		tr := streamTrap(t, "unix", fmt.Sprintf("@agentctl-escape-allowed-%d", os.Getpid()))
		attempt(t, tr.addr)
		tr.assertUntouched(t)
	})
}

// TestRunReportsRefusedDestinations: a destination the broker refused is
// reported with the result, so agentctl can say the sandbox refused it
// (and which), and an allowed one is not.
func TestRunReportsRefusedDestinations(t *testing.T) {
	e := newEscapeEnv(t)
	e.extraDest = []string{"registry.allowed.test:443"} // starts the proxy; never dialled
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, enf, err := Run(ctx, e.config("proxy", "exfil.example.test:443"), Stdio{Out: &out, Err: &errb})
	if err != nil || code != 0 {
		t.Fatalf("sandbox.Run: exit %d, %v\n%s%s", code, err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "blocked:") {
		t.Fatalf("the proxy let it through:\n%s", out.String())
	}
	if len(enf.Refused) != 1 || enf.Refused[0] != "exfil.example.test:443" {
		t.Errorf("refused %q, want [exfil.example.test:443] (the cluster %s was allowed)", enf.Refused, e.server)
	}
	if !strings.Contains(enf.String(), "refused: exfil.example.test:443") {
		t.Errorf("summary %q does not name the refusal", enf.String())
	}
}

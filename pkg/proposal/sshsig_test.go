package proposal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("AGENTCTL_E2E") != "" {
			t.Fatalf("%s not found: %v", name, err)
		}
		t.Skipf("%s not found", name)
	}
	return p
}

// keygen makes an unencrypted key pair with the real ssh-keygen and
// returns the private key file's path and its signer.
func keygen(t *testing.T, typ string) (string, ssh.Signer) {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "id_"+typ)
	out, err := exec.Command(needTool(t, "ssh-keygen"), "-q", "-t", typ, "-N", "", "-C", "alice@example.com", "-f", key).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -t %s: %v\n%s", typ, err, out)
	}
	pem, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	return key, s
}

func allowedLine(s ssh.Signer, principal, opts string) string {
	l := principal + " "
	if opts != "" {
		l += opts + " "
	}
	return l + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
}

func TestSignatureVerifiesWithSSHKeygen(t *testing.T) {
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		t.Run(typ, func(t *testing.T) {
			_, s := keygen(t, typ)
			msg := []byte("{\"version\":1}\n")
			sig, err := Sign(s, Namespace, msg)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			allowed := filepath.Join(dir, "allowed_signers")
			sigFile := filepath.Join(dir, "b.sig")
			os.WriteFile(allowed, []byte(allowedLine(s, "alice@example.com", `namespaces="agentctl"`)+"\n"), 0o600)
			os.WriteFile(sigFile, sig, 0o600)
			cmd := exec.Command(needTool(t, "ssh-keygen"), "-Y", "verify", "-n", "agentctl", "-f", allowed, "-I", "alice@example.com", "-s", sigFile)
			cmd.Stdin = bytes.NewReader(msg)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ssh-keygen -Y verify refused our signature: %v\n%s", err, out)
			}
			cmd = exec.Command(needTool(t, "ssh-keygen"), "-Y", "verify", "-n", "agentctl", "-f", allowed, "-I", "alice@example.com", "-s", sigFile)
			cmd.Stdin = bytes.NewReader(append(msg, 'x'))
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Fatalf("ssh-keygen -Y verify accepted our signature over other bytes\n%s", out)
			}
		})
	}
}

func TestSSHKeygenSignatureVerifies(t *testing.T) {
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		t.Run(typ, func(t *testing.T) {
			key, s := keygen(t, typ)
			msg := []byte("the bundle\n")
			for _, ns := range []string{"agentctl", "git"} {
				cmd := exec.Command(needTool(t, "ssh-keygen"), "-Y", "sign", "-n", ns, "-f", key)
				cmd.Stdin = bytes.NewReader(msg)
				armored, err := cmd.Output()
				if err != nil {
					t.Fatalf("ssh-keygen -Y sign: %v", err)
				}
				sig, err := ParseSignature(armored)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(sig.PublicKey.Marshal(), s.PublicKey().Marshal()) {
					t.Fatal("parsed signature names another key")
				}
				err = sig.Verify(Namespace, msg)
				if ns == Namespace && err != nil {
					t.Fatalf("ssh-keygen's signature does not verify: %v", err)
				}
				if ns != Namespace && (err == nil || !strings.Contains(err.Error(), `namespace "git"`)) {
					t.Fatalf("signature over namespace %q: err = %v, want a namespace refusal", ns, err)
				}
				if ns == Namespace {
					if err := sig.Verify(Namespace, append(msg, 'x')); err == nil {
						t.Fatal("ssh-keygen's signature verified over other bytes")
					}
				}
			}
		})
	}
}

func TestSignWithSSHAgent(t *testing.T) {
	key, s := keygen(t, "ed25519")
	sock := startSSHAgent(t)
	cmd := exec.Command(needTool(t, "ssh-add"), key)
	cmd.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	signers, err := agent.NewClient(conn).Signers()
	if err != nil || len(signers) != 1 {
		t.Fatalf("agent signers: %v, %d", err, len(signers))
	}
	msg := []byte("approve me\n")
	armored, err := Sign(signers[0], Namespace, msg)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ParseSignature(armored)
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Verify(Namespace, msg); err != nil {
		t.Fatalf("agent-made signature does not verify: %v", err)
	}
	if !bytes.Equal(sig.PublicKey.Marshal(), s.PublicKey().Marshal()) {
		t.Fatal("agent signed with another key")
	}
}

// startSSHAgent starts a real ssh-agent on a new socket. Without -D it
// returns once the socket is listening and prints its pid, which the
// cleanup kills.
func startSSHAgent(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	out, err := exec.Command(needTool(t, "ssh-agent"), "-s", "-a", sock).Output()
	if err != nil {
		t.Fatalf("ssh-agent: %v", err)
	}
	_, rest, ok := strings.Cut(string(out), "SSH_AGENT_PID=")
	pid, _, _ := strings.Cut(rest, ";")
	n, err := strconv.Atoi(pid)
	if !ok || err != nil {
		t.Fatalf("ssh-agent printed no pid: %q", out)
	}
	t.Cleanup(func() {
		if p, err := os.FindProcess(n); err == nil {
			p.Kill()
		}
	})
	return sock
}

func TestParseSignatureMalformed(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, _ := ssh.NewSignerFromKey(priv)
	good, err := Sign(s, Namespace, []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(good), "\n")
	for name, in := range map[string]string{
		"empty":             "",
		"not armored":       "hello",
		"truncated":         string(good[:len(good)/2]),
		"no end line":       strings.Join(lines[:len(lines)-2], "\n"),
		"body cut":          lines[0] + "\n" + lines[1][:20] + "\n" + lines[len(lines)-2] + "\n",
		"bad base64":        lines[0] + "\n!!!!\n" + lines[len(lines)-2] + "\n",
		"a public key file": string(ssh.MarshalAuthorizedKey(s.PublicKey())),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSignature([]byte(in))
			if err == nil {
				t.Fatal("parsed")
			}
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "malformed ssh signature") {
				t.Fatalf("error %q is not one line starting 'malformed ssh signature'", err)
			}
		})
	}
}

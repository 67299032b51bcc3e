package e2e_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/proposal"
)

// sshTool is a real OpenSSH program, or the test is skipped (failed
// under AGENTCTL_E2E).
func sshTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("AGENTCTL_E2E") != "" {
			t.Fatalf("%s: %v", name, err)
		}
		t.Skipf("%s not found", name)
	}
	return p
}

// humanKey makes an ed25519 key with the real ssh-keygen in a directory
// of the human's (root's, not the agent's) and returns the private key's
// path and its allowed_signers line for principal.
func humanKey(t *testing.T, principal string) (string, string) {
	t.Helper()
	key := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command(sshTool(t, "ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return key, principal + ` namespaces="agentctl" ` + strings.TrimSpace(string(pub))
}

// startAgent starts a real ssh-agent holding key and returns its socket.
func startAgent(t *testing.T, key string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	out, err := exec.Command(sshTool(t, "ssh-agent"), "-s", "-a", sock).Output()
	if err != nil {
		t.Fatalf("ssh-agent: %v", err)
	}
	_, rest, _ := strings.Cut(string(out), "SSH_AGENT_PID=")
	pid, _, _ := strings.Cut(rest, ";")
	n, err := strconv.Atoi(pid)
	if err != nil {
		t.Fatalf("ssh-agent printed no pid: %q", out)
	}
	t.Cleanup(func() {
		if p, err := os.FindProcess(n); err == nil {
			p.Kill()
		}
	})
	add := exec.Command(sshTool(t, "ssh-add"), key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	return sock
}

type proposed struct {
	Bundle string `json:"bundle"`
	Plan   string `json:"plan"`
	SHA256 string `json:"sha256"`
	Class  string `json:"class"`
	Nonce  string `json:"nonce"`
}

func propose(t *testing.T, e *env, args ...string) proposed {
	t.Helper()
	got := e.agentctl(append([]string{"--output", "json", "propose", "terraform", "plan", "-input=false", "-no-color", "-out=prod.tfplan"}, args...)...)
	if got.code != 0 {
		t.Fatalf("propose exited %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	var p proposed
	if err := json.Unmarshal([]byte(got.stdout), &p); err != nil {
		t.Fatalf("propose printed no JSON object: %v\n%s", err, got.stdout)
	}
	return p
}

// approveAs runs `agentctl approve` as the human: with a key file, or
// (key "") through the ssh-agent at sock.
func approveAs(t *testing.T, e *env, answer, bundle, key, sock string) result {
	t.Helper()
	h := *e
	h.agent = nil // the human, not the agent's user
	h.vars = append(append([]string(nil), e.vars...), "SSH_AUTH_SOCK="+sock)
	args := []string{"approve", bundle}
	if key != "" {
		args = append(args, "--key", key)
	}
	return h.agentctlStdin(answer, args...)
}

func approvalsConfig(t *testing.T, signers ...string) {
	t.Helper()
	agentctlBin(t) // sets build.admin
	adminFiles(t, map[string]string{
		// the refusal tests refuse more often than the lockout allows
		"policy.yaml":     "limits:\n  lockout: {denials: 0, window: 10m}\n",
		"allowed_signers": strings.Join(signers, "\n") + "\n",
		"config.yaml":     "approvals:\n  allowedSigners: " + filepath.Join(build.admin, "allowed_signers") + "\n  required: 1\n",
	})
}

// lastDecision is the last decision record of the audit log.
func lastBundleDecision(t *testing.T, e *env) map[string]any {
	t.Helper()
	recs := e.auditRecords()
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i]["kind"] == "decision" {
			return recs[i]
		}
	}
	t.Fatal("no decision record")
	return nil
}

// TestSignedProposalApplies checks the propose / approve / apply flow with
// the real terraform: a plan proposed by the agent, signed by a human
// with a key file, applies in CI with nobody to ask; the bundle's nonce is
// audited and a second apply of it is refused; a later bundle applied to
// a rolled-back or foreign state is refused.
func TestSignedProposalApplies(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	approvalsConfig(t, alice)
	e, d := tfEnv(t, "fleet")
	d.Run(t, "apply", "-auto-approve", "-input=false")
	old, err := os.ReadFile(filepath.Join(d.Dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}

	p := propose(t, e, "-var=instances=3")
	if p.Class != "write" || p.Bundle != filepath.Join(d.Dir, "prod.tfplan.proposal.json") {
		t.Fatalf("proposal %+v, want a write bundle next to the plan", p)
	}
	if got := approveAs(t, e, "yes\n", p.Bundle, aliceKey, ""); got.code != 0 || !strings.Contains(got.stderr, "Plan: 1 to add") {
		t.Fatalf("approve exited %d\nstderr: %s", got.code, got.stderr)
	}
	if v := e.agentctl("approve", "--verify", p.Bundle); v.code != 0 || !strings.Contains(v.stdout, "good signature by SHA256:") || !strings.Contains(v.stdout, "alice@example.com") {
		t.Fatalf("approve --verify exited %d\nstdout: %s\nstderr: %s", v.code, v.stdout, v.stderr)
	}
	got := e.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
	if got.code != 0 || !strings.Contains(got.stdout, "Apply complete! Resources: 1 added") {
		t.Fatalf("signed apply exited %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	rec := lastBundleDecision(t, e)
	if rec["channel"] != "signed" || !strings.Contains(rec["reason"].(string), p.Nonce) || !strings.Contains(rec["approver"].(string), "alice@example.com") {
		t.Errorf("audit record of the signed apply: %v", rec)
	}
	got = e.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
	if got.code != exitDenied || !strings.Contains(got.stderr, "was used before (replay)") {
		t.Errorf("second apply: exit %d, want %d with a replay refusal\nstderr: %s", got.code, exitDenied, got.stderr)
	}

	// A new proposal against the new state, applied to a swapped state.
	p = propose(t, e, "-var=instances=4")
	if got := approveAs(t, e, "yes\n", p.Bundle, aliceKey, ""); got.code != 0 {
		t.Fatalf("approve exited %d\nstderr: %s", got.code, got.stderr)
	}
	current, err := os.ReadFile(filepath.Join(d.Dir, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Lineage string `json:"lineage"`
	}
	json.Unmarshal(current, &st)
	for _, c := range []struct {
		name, state, refusal string
	}{
		{"state rolled back to an older serial", string(old), "is older than the"},
		{"state of another lineage", strings.Replace(string(current), st.Lineage, "00000000-0000-0000-0000-000000000000", 1), "the state is lineage \"00000000-"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(d.Dir, "terraform.tfstate"), []byte(c.state), 0o644); err != nil {
				t.Fatal(err)
			}
			cloud := d.CloudSnapshot(t)
			got := e.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
			if got.code != exitDenied || !strings.Contains(got.stderr, c.refusal) || strings.Contains(got.stdout, "Apply complete") {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", got.code, exitDenied, c.refusal, got.stdout, got.stderr)
			}
			if after := d.CloudSnapshot(t); !reflect.DeepEqual(cloud, after) {
				t.Error("the cloud changed")
			}
			if rec := lastBundleDecision(t, e); rec["channel"] != "signed" || rec["approval"] != "denied" || !strings.Contains(rec["reason"].(string), c.refusal) {
				t.Errorf("refusal not audited: %v", rec)
			}
		})
	}
}

// TestSignedProposalRefusals checks each way a signed bundle must not
// apply: the agent (uid nobody) holds the plan, the bundle and the
// signatures' directory, and tries what it can; nothing runs, each refusal
// is one line and audited.
func TestSignedProposalRefusals(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	bobKey, bob := humanKey(t, "bob@example.com")
	malloryKey, _ := humanKey(t, "mallory@example.com")
	approvalsConfig(t, alice, bob)
	e, d := tfEnv(t, "fleet")
	d.Run(t, "workspace", "new", "staging")
	d.Run(t, "workspace", "select", "default")
	p := propose(t, e)
	bundle, err := os.ReadFile(p.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := os.ReadFile(p.Plan)
	if err != nil {
		t.Fatal(err)
	}
	expired := func(t *testing.T) []byte {
		b, err := proposal.Parse(bundle)
		if err != nil {
			t.Fatal(err)
		}
		b.Created, b.Expires = time.Now().Add(-2*time.Hour).UTC(), time.Now().Add(-time.Hour).UTC()
		out, err := b.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sigPath := func(who string) string { return p.Bundle + "." + who + ".sig" }
	for _, c := range []struct {
		name    string
		prepare func(t *testing.T) // writes the bundle, plan and signatures
		env     []string
		refusal string
	}{
		{name: "no signature", prepare: func(t *testing.T) {}, refusal: "0 distinct allowed signer(s)"},
		{name: "signer not in allowed_signers", prepare: func(t *testing.T) {
			os.WriteFile(sigPath("m"), sshSign(t, malloryKey, "agentctl", bundle), 0o644)
		}, refusal: "is not in allowed_signers"},
		{name: "signature over another namespace", prepare: func(t *testing.T) {
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "git", bundle), 0o644)
		}, refusal: `signature is for namespace "git", not "agentctl"`},
		{name: "plan bytes changed after signing", prepare: func(t *testing.T) {
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", bundle), 0o644)
			d.Run(t, "plan", "-input=false", "-var=instances=5", "-out="+p.Plan)
		}, refusal: "are not the ones approved"},
		{name: "bundle edited after signing", prepare: func(t *testing.T) {
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", bundle), 0o644)
			os.WriteFile(p.Bundle, bytes.Replace(bundle, []byte("2 to add"), []byte("0 to add"), 1), 0o644)
		}, refusal: "signature does not verify"},
		{name: "other workspace", env: []string{"TF_WORKSPACE=staging"}, prepare: func(t *testing.T) {
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", bundle), 0o644)
		}, refusal: `workspace "default", this is "staging"`},
		{name: "expired", prepare: func(t *testing.T) {
			old := expired(t)
			os.WriteFile(p.Bundle, old, 0o644)
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", old), 0o644)
		}, refusal: "bundle expired at"},
		{name: "bundle that claims a lower class, signed", prepare: func(t *testing.T) {
			b, err := proposal.Parse(bundle)
			if err != nil {
				t.Fatal(err)
			}
			b.Class = "read"
			lie, err := b.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(p.Bundle, lie, 0o644)
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", lie), 0o644)
		}, refusal: "bundle says class read, the plan is write"},
		{name: "truncated bundle", prepare: func(t *testing.T) {
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", bundle), 0o644)
			os.WriteFile(p.Bundle, bundle[:len(bundle)/2], 0o644)
		}, refusal: "malformed proposal bundle: truncated"},
		{name: "truncated signature", prepare: func(t *testing.T) {
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", bundle)[:100], 0o644)
		}, refusal: "malformed ssh signature"},
		{name: "last: several good signatures apply", prepare: func(t *testing.T) {
			os.WriteFile(sigPath("a"), sshSign(t, aliceKey, "agentctl", bundle), 0o644)
			os.WriteFile(sigPath("a2"), sshSign(t, aliceKey, "agentctl", bundle), 0o644)
			os.WriteFile(sigPath("b"), sshSign(t, bobKey, "agentctl", bundle), 0o644)
		}, refusal: ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(p.Bundle, bundle, 0o644)
			os.WriteFile(p.Plan, plan, 0o644)
			old, _ := filepath.Glob(p.Bundle + ".*.sig")
			for _, f := range old {
				os.Remove(f)
			}
			c.prepare(t)
			cloud := d.CloudSnapshot(t)
			r := *e
			r.vars = append(append([]string(nil), e.vars...), c.env...)
			got := r.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
			if c.refusal == "" {
				if got.code != 0 {
					t.Fatalf("exit %d\nstderr: %s", got.code, got.stderr)
				}
				return
			}
			if got.code != exitDenied || !strings.Contains(got.stderr, c.refusal) || strings.Contains(got.stdout, "Apply complete") {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", got.code, exitDenied, c.refusal, got.stdout, got.stderr)
			}
			if after := d.CloudSnapshot(t); !reflect.DeepEqual(cloud, after) {
				t.Error("the cloud changed")
			}
			if rec := lastBundleDecision(t, e); rec["approval"] != "denied" || !strings.Contains(rec["reason"].(string), c.refusal) || strings.Contains(rec["reason"].(string), "\n") {
				t.Errorf("refusal not audited as one line: %v", rec)
			}
		})
	}
}

// TestSignedPrivilegeProposalNeedsTwoSigners checks that a privilege plan
// (IAM) signed by one human is refused and applies once a second human
// signs it through a real ssh-agent.
func TestSignedPrivilegeProposalNeedsTwoSigners(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	bobKey, bob := humanKey(t, "bob@example.com")
	approvalsConfig(t, alice, bob)
	e, d := tfEnv(t, "iam")
	p := propose(t, e)
	if p.Class != "privilege" {
		t.Fatalf("class %q, want privilege", p.Class)
	}
	if got := approveAs(t, e, "yes\n", p.Bundle, aliceKey, ""); got.code == 0 {
		t.Fatalf("a privilege bundle was signed with a plain yes\nstderr: %s", got.stderr)
	}
	// The human is shown the proposer's summary: the plan beside the
	// bundle must be the one it names, or nothing is signed.
	plan, err := os.ReadFile(p.Plan)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p.Plan, append(append([]byte(nil), plan...), 0), 0o644)
	if got := approveAs(t, e, "default\n", p.Bundle, aliceKey, ""); got.code == 0 || !strings.Contains(got.stderr, "is not the one the bundle names") {
		t.Fatalf("approve of a bundle beside another plan: exit %d\nstderr: %s", got.code, got.stderr)
	}
	os.WriteFile(p.Plan, plan, 0o644)
	if got := approveAs(t, e, "default\n", p.Bundle, aliceKey, ""); got.code != 0 {
		t.Fatalf("approve exited %d\nstderr: %s", got.code, got.stderr)
	}
	cloud := d.CloudSnapshot(t)
	got := e.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
	if got.code != exitDenied || !strings.Contains(got.stderr, "privilege bundle needs 2") {
		t.Fatalf("one signer: exit %d, want %d\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	if !reflect.DeepEqual(cloud, d.CloudSnapshot(t)) {
		t.Fatal("the cloud changed")
	}
	sock := startAgent(t, bobKey)
	if got := approveAs(t, e, "default\n", p.Bundle, "", sock); got.code != 0 {
		t.Fatalf("approve through ssh-agent exited %d\nstderr: %s", got.code, got.stderr)
	}
	got = e.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
	if got.code != 0 || !strings.Contains(got.stdout, "Apply complete!") {
		t.Fatalf("two signers: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
}

// TestSignedProposalAgentCannotApproveItself runs the agent as an
// ordinary user (uid nobody) that owns the terraform directory, the plan,
// the bundle and its own state dir: it signs its own bundle with its own
// key, points nothing at an allowed_signers file of its own, and replays
// an applied bundle after deleting its nonce records. Each is refused and
// nothing runs.
func TestSignedProposalAgentCannotApproveItself(t *testing.T) {
	aliceKey, alice := humanKey(t, "alice@example.com")
	agentKey, _ := humanKey(t, "agent@example.com")
	approvalsConfig(t, alice)
	a := newTFAgent(t, "fleet")
	e, d := a.e, a.d
	p := propose(t, e)

	// The agent approves its own proposal with its own key.
	if got := e.agentctlStdin("yes\n", "approve", p.Bundle, "--key", e.give(agentKey)); got.code != 0 {
		t.Fatalf("the agent's approve exited %d: %s", got.code, got.stderr)
	}
	cloud := d.CloudSnapshot(t)
	got := e.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
	if got.code != exitDenied || !strings.Contains(got.stderr, "is not in allowed_signers") || !reflect.DeepEqual(cloud, d.CloudSnapshot(t)) {
		t.Fatalf("self-signed apply: exit %d, want %d\nstdout: %s\nstderr: %s", got.code, exitDenied, got.stdout, got.stderr)
	}
	sigs, _ := filepath.Glob(p.Bundle + ".*.sig")
	for _, s := range sigs {
		os.Remove(s)
	}

	// The human signs; it applies once.
	if got := approveAs(t, e, "yes\n", p.Bundle, aliceKey, ""); got.code != 0 {
		t.Fatalf("approve exited %d: %s", got.code, got.stderr)
	}
	if got := e.agentctl("terraform", "apply", "-no-color", "prod.tfplan"); got.code != 0 {
		t.Fatalf("signed apply as the agent: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	// The agent deletes its nonce records and replays: the state moved
	// on (the first apply gave it a lineage), and the pin refuses it.
	if out, err := exec.Command("rm", "-rf", filepath.Join(e.home, ".local", "state", "agentctl", "nonces")).CombinedOutput(); err != nil {
		t.Fatalf("rm: %v %s", err, out)
	}
	cloud = d.CloudSnapshot(t)
	got = e.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
	if got.code != exitDenied || !strings.Contains(got.stderr, "bundle was planned against state lineage \"\"") || !reflect.DeepEqual(cloud, d.CloudSnapshot(t)) {
		t.Fatalf("replay after deleting the nonce store: exit %d, want %d\nstdout: %s\nstderr: %s", got.code, exitDenied, got.stdout, got.stderr)
	}
}

// TestSignedProposalRefusesAnAgentWrittenAllowedSigners checks that an
// approvals.allowedSigners file the agent can write (it could add its own
// key) approves nothing.
func TestSignedProposalRefusesAnAgentWrittenAllowedSigners(t *testing.T) {
	agentctlBin(t)
	a := newTFAgent(t, "fleet")
	e, d := a.e, a.d
	agentKey, agentLine := humanKey(t, "agent@example.com")
	signers := filepath.Join(e.home, "allowed_signers")
	if err := os.WriteFile(signers, []byte(agentLine+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.agent.Own(t, signers)
	adminFiles(t, map[string]string{"config.yaml": "approvals:\n  allowedSigners: " + signers + "\n"})
	p := propose(t, e)
	if got := e.agentctlStdin("yes\n", "approve", p.Bundle, "--key", e.give(agentKey)); got.code != 0 {
		t.Fatalf("the agent's approve exited %d: %s", got.code, got.stderr)
	}
	cloud := d.CloudSnapshot(t)
	got := e.agentctl("terraform", "apply", "-no-color", "prod.tfplan")
	if got.code != exitDenied || !strings.Contains(got.stderr, "must be owned by root") || !reflect.DeepEqual(cloud, d.CloudSnapshot(t)) {
		t.Fatalf("apply with an agent-owned allowed_signers: exit %d, want %d\nstdout: %s\nstderr: %s", got.code, exitDenied, got.stdout, got.stderr)
	}
}

package e2e_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// grantIn asks for a grant in a real terminal (tmux), approves it with
// the typed namespace, and returns its id.
func grantIn(t *testing.T, tm *term, dir, name, ns string, args ...string) string {
	t.Helper()
	bin := agentctlBin(t)
	out := filepath.Join(dir, name+".out")
	tm.start(name, fmt.Sprintf("%s </dev/null >%s 2>%s.err", shellQuote(append([]string{bin}, args...)), out, out))
	tm.waitFor(name, "approval needed", "a approve")
	tm.keys(name, "a")
	tm.waitFor(name, "type the target's name")
	tm.keys(name, ns, "Enter")
	if s := tm.waitFor(name, "EXIT="); !strings.Contains(s, "EXIT=0") {
		e, _ := os.ReadFile(out + ".err")
		t.Fatalf("grant not made; screen:\n%s\nstderr: %s", s, e)
	}
	b, _ := os.ReadFile(out)
	id := strings.TrimSpace(string(b))
	if !strings.HasPrefix(id, "g-") {
		t.Fatalf("grant printed %q, not an id", id)
	}
	return id
}

// TestGrantLetsMatchingRequestsThrough makes grants in a terminal and then
// runs the agent's commands non-interactively (CI=true): what a grant
// covers runs without asking, audited with the grant's id; another
// namespace, class or agent, a revoked, expired or used-up grant do not.
func TestGrantLetsMatchingRequestsThrough(t *testing.T) {
	c := testenv.Start(t)
	ns, other := c.NewNamespace(t), c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	c.Apply(t, other, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	dir, vars := approvalEnv(t)
	looseningNeedsRoot(t)
	// The refusals below are more than the lockout allows (a grant does
	// not lift a lockout: the lockout wins, as a policy deny does).
	if err := os.MkdirAll(filepath.Join(dir, "cfg", "agentctl"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cfg", "agentctl", "policy.yaml"), []byte("limits:\n  lockout: {denials: 0, window: 10m}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tm := newTerm(t, dir, vars)
	ci := &env{t: t, dir: dir, vars: append(append([]string{}, vars...), "CI=true")}
	run := func(args ...string) result {
		t.Helper()
		return ci.agentctl(args...)
	}
	kubectl := func(agent, namespace string, args ...string) result {
		t.Helper()
		a := []string{}
		if agent != "" {
			a = append(a, "--agent", agent)
		}
		return run(append(append(a, "kubectl", "--kubeconfig", admin, "-n", namespace), args...)...)
	}

	// Before any grant: CI denies.
	if got := kubectl("claude", ns, "delete", "cm", "app-config"); got.code != exitDenied {
		t.Fatalf("delete before a grant: exit %d\n%s", got.code, got.stderr)
	}
	// A broker that runs before the grant is made honours it: its
	// workers read the grants at each request.
	b := startBroker(t, ci)
	id := grantIn(t, tm, dir, "grant1", ns, "--agent", "claude", "grant", "--class", "destructive", "--namespace", ns, "--for", "30m", "--max", "2")

	got := ci.via(b).agentctl("--agent", "claude", "kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config")
	if got.code != 0 || configMapExists(t, c, ns, "app-config") {
		t.Fatalf("delete within the grant: exit %d, configmap still there = %v\n%s", got.code, configMapExists(t, c, ns, "app-config"), got.stderr)
	}
	if !strings.Contains(got.stderr, "approved by grant "+id) {
		t.Errorf("the agent is not told which grant approved it: %q", got.stderr)
	}
	for _, tc := range []struct {
		name      string
		agent, ns string
		args      []string
	}{
		{"another namespace", "claude", other, []string{"delete", "cm", "app-config"}},
		{"another class: a write in the namespace", "claude", ns, []string{"label", "cm", "other-config", "x=y"}},
		{"another agent", "codex", ns, []string{"delete", "cm", "other-config"}},
		{"no agent", "", ns, []string{"delete", "cm", "other-config"}},
		{"every namespace", "claude", ns, []string{"delete", "cm", "other-config", "--all-namespaces"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kubectl(tc.agent, tc.ns, tc.args...); got.code != exitDenied {
				t.Errorf("exit %d, want %d\n%s", got.code, exitDenied, got.stderr)
			}
		})
	}
	if !configMapExists(t, c, other, "app-config") || !configMapExists(t, c, ns, "other-config") {
		t.Fatal("a request out of the grant's scope changed the cluster")
	}
	// The second use is the last (--max 2).
	if got := kubectl("claude", ns, "delete", "cm", "other-config"); got.code != 0 {
		t.Fatalf("second use: exit %d\n%s", got.code, got.stderr)
	}
	if got := kubectl("claude", ns, "delete", "pod", "web-0", "--wait=false"); got.code != exitDenied {
		t.Fatalf("after --max: exit %d\n%s", got.code, got.stderr)
	}

	// Revoked.
	id2 := grantIn(t, tm, dir, "grant2", other, "--agent", "claude", "grant", "--class", "destructive", "--namespace", other, "--for", "30m")
	if got := run("grant", "revoke", id2); got.code != 0 {
		t.Fatalf("revoke: exit %d\n%s", got.code, got.stderr)
	}
	if got := kubectl("claude", other, "delete", "cm", "app-config"); got.code != exitDenied || !configMapExists(t, c, other, "app-config") {
		t.Fatalf("after revoke: exit %d\n%s", got.code, got.stderr)
	}
	// Expired.
	id3 := grantIn(t, tm, dir, "grant3", other, "--agent", "claude", "grant", "--class", "destructive", "--namespace", other, "--for", "4s")
	time.Sleep(5 * time.Second)
	if got := kubectl("claude", other, "delete", "cm", "app-config"); got.code != exitDenied || !configMapExists(t, c, other, "app-config") {
		t.Fatalf("after expiry: exit %d\n%s", got.code, got.stderr)
	}

	// grant list says what happened to each.
	list := run("grant", "list", "--output", "json")
	var gl struct {
		Grants []struct{ ID, Status string } `json:"grants"`
	}
	if err := json.Unmarshal([]byte(list.stdout), &gl); err != nil {
		t.Fatalf("grant list --output json: %v\n%s", err, list.stdout)
	}
	want := map[string]string{id: "used up", id2: "revoked", id3: "expired"}
	for _, g := range gl.Grants {
		if want[g.ID] != g.Status {
			t.Errorf("grant %s: status %q, want %q", g.ID, g.Status, want[g.ID])
		}
		delete(want, g.ID)
	}
	if len(want) != 0 {
		t.Errorf("grant list lacks %v:\n%s", want, list.stdout)
	}

	// Each use is audited with the grant's id; nothing else is.
	log := run("audit", "log", "--output", "json")
	uses := 0
	for _, line := range strings.Split(strings.TrimSpace(log.stdout), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit log line %q: %v", line, err)
		}
		if rec["kind"] != "decision" || rec["grant"] == nil {
			continue
		}
		uses++
		if rec["grant"] != id || rec["channel"] != "grant" || rec["approval"] != "approved" || rec["decision"] != "approve" {
			t.Errorf("a grant's use is audited as %v", rec)
		}
	}
	if uses != 2 {
		t.Errorf("%d decisions audited with a grant, want 2\n%s", uses, log.stdout)
	}
}

// TestGrantRefusals: what cannot be granted, and CI cannot make a grant.
func TestGrantRefusals(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"CI cannot approve a grant", []string{"grant", "--class", "destructive", "--namespace", "staging", "--for", "30m"}, exitDenied, "not approved"},
		{"privilege needs root's admin config", []string{"grant", "--class", "privilege", "--namespace", "staging", "--for", "30m"}, exitDenied, `class "privilege" cannot be granted`},
		{"secret never", []string{"grant", "--class", "secret", "--namespace", "staging", "--for", "30m"}, exitDenied, `class "secret" cannot be granted`},
		{"no target", []string{"grant", "--class", "write", "--for", "30m"}, 2, "needs --namespace"},
		{"too long", []string{"grant", "--class", "write", "--namespace", "x", "--for", "48h"}, 2, "longer than 24h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := e.agentctl(tc.args...)
			if got.code != tc.code || !strings.Contains(got.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", got.code, got.stderr, tc.code, tc.want)
			}
		})
	}
	if got := e.agentctl("grant", "list"); got.code != 0 || strings.Contains(got.stdout, "g-") {
		t.Errorf("a refused grant was stored: %s%s", got.stdout, got.stderr)
	}
}

// sshKey writes a new ed25519 private key file and returns its path and
// its allowed_signers line for principal.
func sshKey(t *testing.T, dir, principal string) (string, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, principal+".key")
	if err := os.WriteFile(path, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return path, principal + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey())))
}

// TestBreakGlass: off unless root's admin config allows it; one approver
// twice activates nothing; two distinct approvers let a delete run in CI,
// audited with the break-glass id and flagged.
func TestBreakGlass(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	if got := e.agentctl("break-glass", "--reason", "outage", "--for", "15m"); got.code != exitDenied || !strings.Contains(got.stderr, "break-glass is off") {
		t.Fatalf("without the admin config: exit %d %q", got.code, got.stderr)
	}
	keys := t.TempDir()
	alice, aliceLine := sshKey(t, keys, "alice@example.com")
	bob, bobLine := sshKey(t, keys, "bob@example.com")
	adminFiles(t, map[string]string{
		"policy.yaml":     "limits:\n  lockout: {denials: 0, window: 10m}\n",
		"allowed_signers": aliceLine + "\n" + bobLine + "\n",
		"config.yaml":     "breakGlass:\n  allow: true\n  allowedSigners: " + filepath.Join(build.admin, "allowed_signers") + "\n",
	})
	got := e.agentctl("break-glass", "--reason", "outage INC-4711", "--for", "15m")
	id := strings.TrimSpace(got.stdout)
	if got.code != 0 || !strings.HasPrefix(id, "bg-") {
		t.Fatalf("break-glass: exit %d %q %q", got.code, got.stdout, got.stderr)
	}
	del := func() result {
		return e.agentctl("kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config")
	}
	if got := e.runStdin(agentctlBin(t), "break-glass\n", "break-glass", "approve", id, "--key", alice); got.code != 0 {
		t.Fatalf("alice signs: exit %d %s", got.code, got.stderr)
	}
	if got := e.runStdin(agentctlBin(t), "break-glass\n", "break-glass", "approve", id, "--key", alice); got.code != exitDenied || !strings.Contains(got.stderr, "already") {
		t.Fatalf("alice signs twice: exit %d %s", got.code, got.stderr)
	}
	if got := del(); got.code != exitDenied || !configMapExists(t, c, ns, "app-config") {
		t.Fatalf("one approver: exit %d %s", got.code, got.stderr)
	}
	if got := e.runStdin(agentctlBin(t), "break-glass\n", "break-glass", "approve", id, "--key", bob); got.code != 0 || !strings.Contains(got.stderr, "ACTIVE") {
		t.Fatalf("bob signs: exit %d %s", got.code, got.stderr)
	}
	got = del()
	if got.code != 0 || configMapExists(t, c, ns, "app-config") || !strings.Contains(got.stderr, "BREAK-GLASS "+id) {
		t.Fatalf("two approvers: exit %d %s", got.code, got.stderr)
	}
	log := e.agentctl("audit", "log", "--output", "json")
	found := false
	for _, line := range strings.Split(strings.TrimSpace(log.stdout), "\n") {
		var rec struct {
			Kind, BreakGlass, Channel, Tool string
			Flags                           []struct{ Flag string }
		}
		json.Unmarshal([]byte(line), &rec)
		if rec.Kind == "decision" && rec.Tool == "kubectl" && rec.BreakGlass == id {
			found = rec.Channel == "break-glass" && len(rec.Flags) > 0 && rec.Flags[len(rec.Flags)-1].Flag == "break-glass"
		}
	}
	if !found {
		t.Errorf("the delete is not audited with break-glass %s, flagged:\n%s", id, log.stdout)
	}
	// Ended early: asks (CI: denied) again.
	if got := e.agentctl("grant", "revoke", id); got.code != 0 {
		t.Fatalf("revoke: %d %s", got.code, got.stderr)
	}
	if got := e.agentctl("kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "other-config"); got.code != exitDenied {
		t.Fatalf("after revoke: exit %d %s", got.code, got.stderr)
	}
}

package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/tui"
)

// cliHome runs agentctl commands that share one HOME (and so one policy
// state and audit log).
type cliHome struct {
	t     *testing.T
	home  string
	admin string // the test's /etc/agentctl
	env   []string
}

func newCLIHome(t *testing.T, env ...string) *cliHome {
	home := t.TempDir()
	return &cliHome{t: t, home: home, admin: filepath.Join(home, "etc-agentctl"), env: append([]string{
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"KUBECONFIG=" + filepath.Join(home, "no-kubeconfig"),
	}, env...)}
}

func (h *cliHome) run(args ...string) (code int, stdout, stderr string) {
	h.t.Helper()
	ios, _, out, errOut := Test()
	f := &Factory{IO: ios, Environ: h.env, Executable: os.Executable, Getwd: func() (string, error) { return h.home, nil }, AdminDir: h.admin}
	code = Execute(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

func (h *cliHome) write(name, src string) string {
	h.t.Helper()
	p := filepath.Join(h.home, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// TestPolicyExamples runs `agentctl policy test` over policies/examples:
// the shipped example policies keep doing what their tests say.
func TestPolicyExamples(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "..", "policies", "examples"))
	code, out, errOut := newCLIHome(t).run("policy", "test", dir)
	if code != 0 {
		t.Fatalf("policy test exit %d\n%s%s", code, out, errOut)
	}
	m := regexp.MustCompile(`(?m)^(\d+) passed, 0 failed$`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" {
		t.Errorf("no passing cases reported:\n%s", out)
	}
	for _, name := range []string{"prod-locked", "staging-open", "ci"} {
		if _, err := os.Stat(filepath.Join(dir, name+"_test.yaml")); err != nil {
			t.Errorf("example %s has no tests: %v", name, err)
		}
	}
}

func TestPolicyTestReportsFailures(t *testing.T) {
	h := newCLIHome(t)
	h.write("p.yaml", "rules:\n  - {name: dev-open, namespace: dev, decision: allow}\n")
	tf := h.write("p_test.yaml", `
policy: p.yaml
cases:
  - name: delete in dev is allowed
    command: kubectl -n dev delete pod x
    want: {decision: allow, rule: dev-open}
  - name: delete in prod is allowed too (wrong)
    command: kubectl -n prod delete pod x
    want: {decision: allow, rule: "p.yaml:2"}
`)
	code, out, _ := h.run("policy", "test", tf)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "FAIL "+tf+":7: delete in prod is allowed too (wrong)") || !strings.Contains(out, "got approve by changes-need-human") {
		t.Errorf("the failure is not reported with its file:line and what was got:\n%s", out)
	}
	if !strings.Contains(out, "1 passed, 1 failed") {
		t.Errorf("no summary:\n%s", out)
	}
}

// TestBadPolicyRunsNothing checks that a broken policy stops every command
// with exit 78 and the position of the problem.
func TestBadPolicyRunsNothing(t *testing.T) {
	h := newCLIHome(t, "CI=true")
	bad := h.write("bad.yaml", "rules:\n  - decision: allow\n    namespaces: [dev]\n")
	cel := h.write("cel.yaml", "rules:\n  - decision: allow\n    when: resources.size() > 'one'\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"policy check FILE", []string{"policy", "check", bad}, bad + `:3:5: unknown field "namespaces"`},
		{"a read with a bad --policy", []string{"--policy", bad, "kubectl", "get", "pods"}, bad + ":3:5:"},
		{"explain with a bad --policy", []string{"--policy", bad, "explain", "--", "kubectl", "get", "pods"}, bad + ":3:5:"},
		{"a CEL type error", []string{"--policy", cel, "kubectl", "get", "pods"}, cel + ":3:"},
		{"AGENTCTL_POLICY", []string{"policy", "show"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "AGENTCTL_POLICY" {
				h := newCLIHome(t, "AGENTCTL_POLICY="+bad)
				code, _, errOut := h.run(tc.args...)
				if code != 78 || !strings.Contains(errOut, bad+":3:5:") {
					t.Errorf("exit %d, want 78 naming %s:3:5\n%s", code, bad, errOut)
				}
				return
			}
			code, _, errOut := h.run(tc.args...)
			if code != 78 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, want 78 with %q\nstderr: %s", code, tc.want, errOut)
			}
		})
	}
}

func TestExplainNamesDecisionAndRule(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a --policy file that loosens must be root's: run the tests as root, as CI does")
	}
	h := newCLIHome(t)
	p := h.write("dev.yaml", "environments:\n  - {name: dev, namespace: 'dev-*'}\nrules:\n  - {env: dev, class: destructive, decision: allow}\n")
	code, out, errOut := h.run("--output", "json", "--policy", p, "explain", "--", "kubectl", "-n", "dev-a", "delete", "pod", "x")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m := explainJSONOf(t, out)
	if m["decision"] != "allow" || m["rule"] != p+":4" {
		t.Errorf("decision %v rule %v, want allow by %s:4", m["decision"], m["rule"], p)
	}
	_, out, _ = h.run("--output", "json", "--policy", p, "explain", "--", "kubectl", "-n", "prod", "delete", "pod", "x")
	m = explainJSONOf(t, out)
	if m["decision"] != "approve" || !strings.HasPrefix(m["rule"].(string), "builtin:default.yaml:") {
		t.Errorf("prod: decision %v rule %v, want approve by the default", m["decision"], m["rule"])
	}
}

// TestLockoutThenUnlock: denied commands lock the agent out of everything
// but reads; `agentctl unlock` lets it work again.
func TestLockoutThenUnlock(t *testing.T) {
	h := newCLIHome(t, "CI=true", "AGENTCTL_AGENT=bot")
	p := h.write("lock.yaml", "limits:\n  lockout: {denials: 2, window: 10m}\n")
	for i := 0; i < 2; i++ {
		if code, _, errOut := h.run("--policy", p, "kubectl", "delete", "pod", "x"); code != 77 {
			t.Fatalf("delete %d: exit %d, want 77: %s", i, code, errOut)
		}
	}
	_, out, _ := h.run("--output", "json", "--policy", p, "explain", "--", "kubectl", "scale", "deploy", "web", "--replicas=2")
	if m := explainJSONOf(t, out); m["decision"] != "deny" || m["rule"] != "lockout" {
		t.Fatalf("after 2 denials: decision %v rule %v, want deny by lockout", m["decision"], m["rule"])
	}
	_, out, _ = h.run("--output", "json", "--policy", p, "explain", "--", "kubectl", "get", "pods")
	if m := explainJSONOf(t, out); m["decision"] != "sandbox" {
		t.Errorf("a locked agent's read: %v, want sandbox", m["decision"])
	}
	// The agent unlocks itself: there is no human (CI), so it stays locked.
	code, out, errOut := h.run("unlock")
	if code != 77 || strings.Contains(out, "unlocked") {
		t.Fatalf("an unlock nobody approved: exit %d\n%s%s", code, out, errOut)
	}
	_, out, _ = h.run("--output", "json", "--policy", p, "explain", "--", "kubectl", "scale", "deploy", "web", "--replicas=2")
	if m := explainJSONOf(t, out); m["rule"] != "lockout" {
		t.Fatal("unlocked without a human")
	}
	// A human answers in the inbox: denied first, then approved.
	h.env = slices.DeleteFunc(h.env, func(kv string) bool { return kv == "CI=true" })
	h.env = append(h.env, "XDG_RUNTIME_DIR="+filepath.Join(h.home, "run"), "XDG_CONFIG_HOME="+filepath.Join(h.home, "cfg"))
	answers := startInbox(t, h, false, true)
	code, out, errOut = h.run("unlock")
	if code != 77 || strings.Contains(out, "unlocked") {
		t.Fatalf("an unlock the human denied: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = h.run("unlock")
	if code != 0 || !strings.Contains(out, `agent "bot" unlocked`) {
		t.Fatalf("unlock: exit %d\n%s%s", code, out, errOut)
	}
	if s := <-answers; !strings.Contains(s, "agentctl unlock --agent bot") || !strings.Contains(s, "lifts the lockout") {
		t.Errorf("the human was not shown what the unlock does: %s", s)
	}
	_, out, _ = h.run("--output", "json", "--policy", p, "explain", "--", "kubectl", "scale", "deploy", "web", "--replicas=2")
	if m := explainJSONOf(t, out); m["rule"] == "lockout" {
		t.Error("still locked after unlock")
	}
	_, out, _ = h.run("audit", "log")
	if strings.Count(out, "agentctl unlock --agent bot") != 3 {
		t.Errorf("the unlock decisions are not all in the audit log:\n%s", out)
	}
}

// startInbox runs an inbox for the test home that answers its requests
// with verdicts, in order, and sends each screen it showed as text.
func startInbox(t *testing.T, h *cliHome, verdicts ...bool) <-chan string {
	t.Helper()
	f := &Factory{Environ: h.env}
	paths, err := approve.DefaultPaths(f.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	key, err := approve.LoadOrCreateKey(paths)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := approve.Listen(paths, key, approve.ServerOptions{Approver: "human"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); srv.Close() })
	go srv.Serve(ctx)
	shown := make(chan string, len(verdicts))
	go func() {
		for _, ok := range verdicts {
			select {
			case p := <-srv.Requests():
				shown <- tui.PlainReport(p.Screen)
				p.Answer(approve.Verdict{Approved: ok, Reason: map[bool]string{false: "not now"}[ok]})
			case <-ctx.Done():
				return
			}
		}
	}()
	return shown
}

func TestPolicyShowListsLayersMostSpecificFirst(t *testing.T) {
	h := newCLIHome(t)
	h.write(filepath.Join(".config", "agentctl", "policy.yaml"), "rules:\n  - {class: exec, decision: deny}\n")
	flag := h.write("ci.yaml", "limits:\n  lockout: {denials: 2, window: 5m}\nrules:\n  - {class: write, decision: deny}\n")
	code, out, errOut := h.run("--output", "json", "--policy", flag, "policy", "show")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var eff struct {
		Layers []struct{ Kind, File string }
		Limits map[string]string
	}
	if err := json.Unmarshal([]byte(out), &eff); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var kinds []string
	for _, l := range eff.Layers {
		kinds = append(kinds, l.Kind)
	}
	if strings.Join(kinds, ",") != "flag,user,default" {
		t.Errorf("layers in evaluation order %v, want flag,user,default", kinds)
	}
	if !strings.Contains(eff.Limits["lockout"], "2 denials per 5m0s ("+flag+":2)") || !strings.HasPrefix(eff.Limits["mutations"], "60 changes per 1h0m0s (builtin:default.yaml") {
		t.Errorf("limits %v: want the flag's lockout and the default's mutations", eff.Limits)
	}
}

// TestAgentWrittenPolicyCannotLoosen plays a prompt-injected agent that
// writes a policy of its own and passes it with --policy or
// AGENTCTL_POLICY: a file of the agent's user counts only where it is
// stricter, so the delete still needs a human and a RoleBinding cannot be
// allowed at all; `policy show` says why the layer only tightens.
func TestAgentWrittenPolicyCannotLoosen(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the file to another user")
	}
	h := newCLIHome(t)
	agentOwned := func(name, src string) string {
		p := h.write(name, src)
		if err := os.Chown(p, 65534, -1); err != nil {
			t.Fatal(err)
		}
		return p
	}
	loose := agentOwned("loose.yaml", "rules:\n  - {decision: allow}\n")
	_, out, _ := h.run("--output", "json", "--policy", loose, "explain", "--", "kubectl", "delete", "ns", "prod")
	if m := explainJSONOf(t, out); m["decision"] != "approve" || !strings.HasPrefix(m["rule"].(string), "builtin:default.yaml:") {
		t.Errorf("--policy: decision %v by %v, want approve by the default", m["decision"], m["rule"])
	}
	h.env = append(h.env, "AGENTCTL_POLICY="+loose)
	_, out, _ = h.run("--output", "json", "explain", "--", "kubectl", "delete", "ns", "prod")
	if m := explainJSONOf(t, out); m["decision"] != "approve" {
		t.Errorf("AGENTCTL_POLICY: decision %v by %v, want approve", m["decision"], m["rule"])
	}
	code, out, _ := h.run("policy", "show")
	if code != 0 || !strings.Contains(out, "tighten only") || !strings.Contains(out, "not owned by root") {
		t.Errorf("policy show does not say the layer only tightens (exit %d):\n%s", code, out)
	}
	rbac := agentOwned("rbac.yaml", "rules:\n  - {class: privilege, decision: allow, allowPrivilege: true}\n")
	code, _, errOut := h.run("--policy", rbac, "kubectl", "create", "rolebinding", "x", "--clusterrole=admin", "--user=agent")
	if code != 78 || !strings.Contains(errOut, "allowPrivilege is not allowed in a --policy file") || !strings.Contains(errOut, "hint: ") {
		t.Errorf("allowPrivilege from the agent: exit %d, want 78 with a hint:\n%s", code, errOut)
	}
}

// TestUnlockLiftsTheUserWideLockout: denials spread over agent names lock
// every name of the OS user together; `agentctl unlock`, approved, must
// lift that lock too, not say "was not locked" and leave it.
func TestUnlockLiftsTheUserWideLockout(t *testing.T) {
	h := newCLIHome(t, "CI=true")
	p := h.write("lock.yaml", "limits:\n  lockout: {denials: 2, window: 10m}\n")
	for _, name := range []string{"bot-a", "bot-b"} {
		if code, _, errOut := h.run("--agent", name, "--policy", p, "kubectl", "delete", "pod", "x"); code != 77 {
			t.Fatalf("delete as %s: exit %d, want 77: %s", name, code, errOut)
		}
	}
	locked := func(name string) bool {
		_, out, _ := h.run("--agent", name, "--output", "json", "--policy", p, "explain", "--", "kubectl", "scale", "deploy", "web", "--replicas=2")
		return explainJSONOf(t, out)["rule"] == "lockout"
	}
	if !locked("bot-c") {
		t.Fatal("denials spread over two names did not lock a third")
	}
	h.env = slices.DeleteFunc(h.env, func(kv string) bool { return kv == "CI=true" })
	h.env = append(h.env, "XDG_RUNTIME_DIR="+filepath.Join(h.home, "run"), "XDG_CONFIG_HOME="+filepath.Join(h.home, "cfg"))
	answers := startInbox(t, h, true)
	code, out, errOut := h.run("unlock")
	if code != 0 || !strings.Contains(out, "unlocked") {
		t.Fatalf("unlock of the user-wide lockout: exit %d\n%s%s", code, out, errOut)
	}
	<-answers
	for _, name := range []string{"anonymous", "bot-a", "bot-c"} {
		if locked(name) {
			t.Errorf("agent %q still locked after an approved unlock", name)
		}
	}
}

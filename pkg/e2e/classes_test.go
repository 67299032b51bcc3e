package e2e_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestTaintSpellingsAgreeWithKubectl checks, against a real API server,
// that every taint spelling agentctl classifies as a change is one the real
// kubectl accepts (a server-side dry run), that every one agentctl calls
// unknown ("kubectl would reject") is one kubectl rejects, and that adding
// a NoExecute taint, which evicts running pods, is destructive.
func TestTaintSpellingsAgreeWithKubectl(t *testing.T) {
	c := testenv.Start(t)
	c.Apply(t, "", "apiVersion: v1\nkind: Node\nmetadata:\n  name: e2e-node-1\n  labels: {pool: db}\nspec:\n  taints: [{key: old, effect: NoExecute}]\n")
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	for _, tc := range []struct {
		taint     []string
		wantClass string
	}{
		{[]string{"e2e-node-1", "dedicated=db:NoExecute"}, "destructive"},
		{[]string{"e2e-node-1", "dedicated:NoExecute"}, "destructive"},
		{[]string{"e2e-node-1", "a=b:NoSchedule", "c:NoExecute", "--overwrite"}, "destructive"},
		{[]string{"-l", "pool=db", "dedicated=db:NoExecute"}, "destructive"},
		{[]string{"--all", "dedicated=db:NoExecute"}, "destructive"},
		{[]string{"e2e-node-1", "old:NoExecute-"}, "write"},
		{[]string{"e2e-node-1", "dedicated=db:NoSchedule"}, "write"},
		{[]string{"e2e-node-1", "dedicated=db:noexecute"}, "unknown"},
		{[]string{"e2e-node-1", "dedicated=db"}, "unknown"},
		{[]string{"e2e-node-1", "dedicated:NoExecute", "e2e-node-2"}, "unknown"},
	} {
		args := append([]string{"--kubeconfig", kc, "taint", "nodes"}, tc.taint...)
		t.Run(strings.Join(tc.taint, " "), func(t *testing.T) {
			x := explain(t, e, args...)
			if x.Class != tc.wantClass {
				t.Errorf("agentctl explain: class %q, want %q", x.Class, tc.wantClass)
			}
			real := e.kubectl(append(args, "--dry-run=server")...)
			if rejected := real.code != 0; rejected != (tc.wantClass == "unknown") {
				t.Errorf("real kubectl exit %d (stderr %q) but agentctl says %s", real.code, real.stderr, x.Class)
			}
		})
	}
}

// explainText runs `agentctl explain -- TOOL ARGS` and returns its output.
func explainText(t *testing.T, e *env, args ...string) string {
	t.Helper()
	got := e.agentctl(append([]string{"explain", "--"}, args...)...)
	if got.code != 0 {
		t.Fatalf("explain %q exited %d, want 0\nstderr: %s", args, got.code, got.stderr)
	}
	return got.stdout
}

// TestExplainSaysWhyAnUnknownIsRefused checks that explain names the
// cause of a refusal on its reasons lines, and that running the command
// is refused (77) with the same cause, for the invocations that do nothing
// (no verb) and those a shell should have expanded.
func TestExplainSaysWhyAnUnknownIsRefused(t *testing.T) {
	kc := testenv.OfflineKubeconfig(t, testenv.UserAdmin)
	tf := testenv.Bin(t, "terraform")
	for _, tc := range []struct {
		name   string
		args   []string
		reason string
	}{
		{"kubectl alone", []string{"kubectl"}, "no kubectl command given"},
		{"kubectl with a namespace only", []string{"kubectl", "-n", "prod"}, "no kubectl command given"},
		{"removed kubectl command", []string{"kubectl", "rolling-update", "web"}, `"rolling-update" is no longer a kubectl command`},
		{"terraform alone", []string{"terraform"}, "no terraform subcommand given"},
		{"terraform -chdir=. alone", []string{"terraform", "-chdir=."}, "no terraform subcommand given"},
		{"removed terraform command", []string{"terraform", "push"}, `unknown subcommand "push"`},
		{"unexpanded variable in kubectl", []string{"kubectl", "get", "pods", "-n", "$NS"}, `argument "$NS" holds "$NS"`},
		{"unexpanded variable in terraform", []string{"terraform", "plan", "-var=region=$REGION"}, `"$REGION", which only a shell would interpret`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A fresh state each time: five denials would lock the agent out.
			e := newEnv(t)
			e.vars = append(e.vars, "KUBECONFIG="+kc, "AGENTCTL_TERRAFORM="+tf)
			out := explainText(t, e, tc.args...)
			if !strings.Contains(out, "class:     unknown") {
				t.Errorf("explain: not unknown:\n%s", out)
			}
			_, reasons, _ := strings.Cut(out, "reasons:\n")
			if !strings.Contains(reasons, "unknown") || !strings.Contains(reasons, tc.reason) {
				t.Errorf("explain's reasons do not name the cause %q:\n%s", tc.reason, out)
			}
			got := e.agentctl(append([]string{"--non-interactive"}, tc.args...)...)
			if got.code != exitDenied || !strings.Contains(got.stderr, tc.reason) {
				t.Errorf("run: exit %d, want %d naming %q\nstdout: %s\nstderr: %s", got.code, exitDenied, tc.reason, got.stdout, got.stderr)
			}
		})
	}
}

// TestTerraformChdirToAMissingDirectoryIsTerraformsOwnError checks that
// -chdir=DIR where DIR does not exist gives what the real terraform 1.5.7
// gives (its message, exit 1) for every kind of command, not a sandbox
// error or a refusal.
func TestTerraformChdirToAMissingDirectoryIsTerraformsOwnError(t *testing.T) {
	e, d := tfEnv(t, "creates")
	const msg = "Error handling -chdir option: chdir nope: no such file or directory"
	for _, args := range [][]string{
		{"-chdir=nope", "plan"},
		{"-chdir=nope", "apply", "-auto-approve"},
		{"-chdir=nope", "init"},
		{"-chdir=nope", "destroy"},
		{"-chdir=nope"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			real := e.run(d.Bin, args...)
			if real.code != 1 || !strings.Contains(real.stderr, msg) {
				t.Fatalf("real terraform: exit %d, stderr %q; the test expects terraform 1.5.7's behaviour", real.code, real.stderr)
			}
			got := e.agentctl(append([]string{"--non-interactive", "terraform"}, args...)...)
			if got.code != real.code || !strings.Contains(got.stderr, msg) || strings.Contains(got.stderr, "agentctl:") {
				t.Errorf("agentctl: exit %d, want %d with terraform's message\nstderr: %s", got.code, real.code, got.stderr)
			}
		})
	}
	if snap := d.CloudSnapshot(t); len(snap) != 0 {
		t.Errorf("the cloud changed: %v", snap)
	}
}

// TestTerraformStateRewritesAreDestructive checks the classes explain
// gives for state commands, and that in CI a state mv is refused and
// leaves the state as it was.
func TestTerraformStateRewritesAreDestructive(t *testing.T) {
	e, d := tfEnv(t, "creates")
	d.Run(t, "apply", "-auto-approve", "-input=false")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"state", "mv", "testcloud_instance.web", "testcloud_instance.web2"}, "destructive"},
		{[]string{"state", "replace-provider", "-auto-approve", "agentctl.test/agentctl/testcloud", "example.com/x/testcloud"}, "destructive"},
		{[]string{"plan", "-generate-config-out=generated.tf"}, "write"},
		{[]string{"state", "mv", "-dry-run", "testcloud_instance.web", "testcloud_instance.web2"}, "read"},
	} {
		if x := tfExplain(t, e, tc.args...); x.Class != tc.want {
			t.Errorf("terraform %q: class %q, want %q", tc.args, x.Class, tc.want)
		}
	}
	before := stateFiles(t, d)
	got := e.agentctl("terraform", "state", "mv", "testcloud_instance.web", "testcloud_instance.web2")
	if got.code != exitDenied || !strings.Contains(got.stderr, "destructive") {
		t.Errorf("state mv in CI: exit %d, want %d (destructive)\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	if after := stateFiles(t, d); !reflect.DeepEqual(before, after) {
		t.Errorf("state mv refused in CI changed the state")
	}
}

// TestMisspeltAgentctlCommandExits2 checks what an agent sees for a typo.
func TestMisspeltAgentctlCommandExits2(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{{"kubeclt", "get", "pods"}, {"kubeclt", "--help"}} {
		got := e.agentctl(args...)
		if got.code != 2 || got.stdout != "" || got.stderr != "agentctl: unknown command \"kubeclt\"\nhint: did you mean \"kubectl\"?\n" {
			t.Errorf("agentctl %q: exit %d\nstdout: %s\nstderr: %s", args, got.code, got.stdout, got.stderr)
		}
	}
}

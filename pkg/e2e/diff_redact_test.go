package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/testenv"
)

// diffTemps are the temporary paths and times in kubectl diff's headers,
// which differ from run to run.
var diffTemps = regexp.MustCompile(`(?m)^(diff -u -N|---|\+\+\+) .*$`)

// TestDiffOfAConfigMapIsNotRedacted checks that `kubectl diff` of a
// ConfigMap through agentctl shows what kubectl shows: a ConfigMap's data
// is not a secret, however its values wrap over lines and wherever the
// hunk cuts the object (the kind may be outside the hunk's context).
func TestDiffOfAConfigMapIsNotRedacted(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	long := strings.Repeat("a long line of configuration text ", 6)
	c.Apply(t, ns, `
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data:
  mode: dev
  notes: "`+long+`"
  script: |
    #!/bin/sh
    echo one
    echo two
    echo three
    echo four
  trailing: "spaces  \nand more  "
  zz: "`+long+`"
`)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	changed := `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data:
  mode: prod
  notes: "` + long + `"
  script: |
    #!/bin/sh
    echo one
    echo two
    echo three
    echo four
  trailing: "spaces  \nand more  "
  zz: "` + long + `x"
`
	e := newEnv(t)
	args := []string{"--kubeconfig", admin, "-n", ns, "diff", "-f", "-"}
	want := e.runStdin(testenv.Bin(t, "kubectl"), changed, args...)
	got := e.agentctlStdin(changed, append([]string{"kubectl"}, args...)...)
	if got.code != want.code {
		t.Fatalf("exit %d, kubectl's %d\nstderr: %s", got.code, want.code, got.stderr)
	}
	if strings.Contains(got.stdout, "REDACTED") {
		t.Errorf("a ConfigMap's diff was redacted:\n%s", got.stdout)
	}
	if g, w := diffTemps.ReplaceAllString(got.stdout, "$1"), diffTemps.ReplaceAllString(want.stdout, "$1"); g != w {
		t.Errorf("diff through agentctl differs from kubectl's\n--- agentctl:\n%s\n--- kubectl:\n%s", g, w)
	}
}

// TestDiffShowsConfigMapsAndHidesSecrets checks `kubectl diff` of a
// ConfigMap whose second key, a value kubectl wraps over lines, changed,
// next to a changed Secret applied client-side: the ConfigMap's part is
// exactly kubectl's (it was `mode: [REDACTED:secret]`), no Secret value
// shows. (kubectl masks the Secret here itself; agentctl's own redaction of
// unmasked Secret diffs is TestDiffRedaction in pkg/redact.)
func TestDiffShowsConfigMapsAndHidesSecrets(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	long := strings.Repeat("a long line of configuration text ", 6)
	objects := func(notes, password string) string {
		return `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data:
  mode: prod
  notes: "` + notes + `"
---
apiVersion: v1
kind: Secret
metadata: {name: db}
stringData:
  password: ` + password + `
  user: app-user-name
`
	}
	e := newEnv(t)
	kubectl := testenv.Bin(t, "kubectl")
	if r := e.runStdin(kubectl, objects(long, "hunter2-before"), "--kubeconfig", admin, "-n", ns, "apply", "-f", "-"); r.code != 0 {
		t.Fatalf("kubectl apply: %s", r.stderr)
	}
	changed := objects(long+"x", "hunter2-after")
	args := []string{"--kubeconfig", admin, "-n", ns, "diff", "-f", "-"}
	want := e.runStdin(kubectl, changed, args...)
	got := e.agentctlStdin(changed, append([]string{"kubectl"}, args...)...)
	if got.code != want.code || got.code != 1 {
		t.Fatalf("exit %d, kubectl's %d\nstderr: %s", got.code, want.code, got.stderr)
	}
	part := func(out, kind string) string {
		for _, f := range strings.Split(out, "diff -u -N ")[1:] {
			if head, _, _ := strings.Cut(f, "\n"); strings.Contains(head, "/v1."+kind+".") {
				return diffTemps.ReplaceAllString("diff -u -N "+f, "$1")
			}
		}
		t.Fatalf("no %s in the diff:\n%s", kind, out)
		return ""
	}
	if g, w := part(got.stdout, "ConfigMap"), part(want.stdout, "ConfigMap"); g != w {
		t.Errorf("the ConfigMap's diff through agentctl differs from kubectl's\n--- agentctl:\n%s\n--- kubectl:\n%s", g, w)
	}
	if !strings.Contains(part(got.stdout, "ConfigMap"), "   mode: prod\n") {
		t.Errorf("the ConfigMap's unchanged value is not shown:\n%s", got.stdout)
	}
	for _, v := range []string{"hunter2-before", "hunter2-after", "app-user-name"} {
		b64 := base64.StdEncoding.EncodeToString([]byte(v))
		if strings.Contains(got.stdout, v) || strings.Contains(got.stdout, b64) {
			t.Errorf("the Secret's value %q shows in the diff:\n%s", v, got.stdout)
		}
	}
}

// TestApprovalScreenShowsAConfigMapDiffAsKubectl: the change an approver
// is shown for `kubectl apply` of a ConfigMap whose wrapped second value
// changed shows the unchanged first value as it is (it was
// `mode: [REDACTED:secret]`), and the refusal the agent gets when the
// human says no names the request the inbox showed: its approval hash
// (the inbox shows its first 12 characters) and the request id.
func TestApprovalScreenShowsAConfigMapDiffAsKubectl(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	long := strings.Repeat("a long line of configuration text ", 6)
	cm := func(notes string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata:\n  mode: prod\n  notes: \"" + notes + "\"\n"
	}
	c.Apply(t, ns, cm(long))
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	e := newEnv(t)
	e.vars = append(e.interactive(), "XDG_RUNTIME_DIR="+t.TempDir())
	srv, ctx := testInbox(t, e.vars)
	shown := make(chan *approve.Screen, 1)
	go func() {
		select {
		case p := <-srv.Requests():
			shown <- p.Screen
			p.Answer(approve.Verdict{Approved: false, Reason: "looking only"})
		case <-ctx.Done():
		}
	}()

	got := e.agentctlStdin(cm(long+"x"), "--output", "json", "kubectl", "--kubeconfig", admin, "-n", ns, "apply", "-f", "-")
	if got.code != exitDenied {
		t.Fatalf("exit %d, want %d (the human said no)\nstderr: %s", got.code, exitDenied, got.stderr)
	}
	var s *approve.Screen
	select {
	case s = <-shown:
	default:
		t.Fatal("the inbox was not asked")
	}
	if !strings.Contains(s.Diff, "\n   mode: prod\n") || strings.Contains(s.Diff, "REDACTED") {
		t.Errorf("the approval screen's diff:\n%s", s.Diff)
	}
	// The inbox's waiting line comes first; the refusal is the last line.
	lines := strings.Split(strings.TrimSpace(got.stderr), "\n")
	var refusal map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &refusal); err != nil {
		t.Fatalf("the last line of stderr is not one JSON object: %v\n%s", err, got.stderr)
	}
	if refusal["requestId"] != s.ID || s.ID == "" {
		t.Errorf("requestId %v, the inbox's request %q", refusal["requestId"], s.ID)
	}
	if refusal["approvalHash"] != s.Hash || s.Hash == "" {
		t.Errorf("approvalHash %v, the inbox showed %q", refusal["approvalHash"], s.Hash)
	}
}

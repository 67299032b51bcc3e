package e2e_test

import (
	"regexp"
	"strings"
	"testing"

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

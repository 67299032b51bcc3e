package policy_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// nobody is a uid that is not root: the owner of a file the agent wrote.
const nobody = 65534

// writePolicy writes a policy file with the given owner and mode.
func writePolicy(t *testing.T, dir, name, src string, uid int, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.TrimLeft(src, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, uid, -1); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make files owned by root and by another user")
	}
}

// TestPolicyFilesTheAgentCouldWriteOnlyTighten checks the trust rule: a
// --policy or user file the agent's OS user could have written (owned by
// that user, or writable by group or others) counts only where it makes
// the decision stricter, as the project file does; a file owned by root
// and writable by nobody else decides like before.
func TestPolicyFilesTheAgentCouldWriteOnlyTighten(t *testing.T) {
	needRoot(t)
	const allowAll = `
rules:
  - {decision: allow, message: anything goes}
`
	const denyDeletes = `
rules:
  - {class: destructive, decision: deny, message: no deletes}
`
	del := kube(classify.Destructive, "delete", "Namespace", "prod")
	for _, tc := range []struct {
		name   string
		src    string
		uid    int
		mode   os.FileMode
		user   bool // the user layer instead of --policy
		action policy.Action
		rule   string
	}{
		{"--policy owned by the agent's user: its allow does not count", allowAll, nobody, 0o644, false, policy.Approve, "builtin:default.yaml:"},
		{"user file owned by the agent's user: its allow does not count", allowAll, nobody, 0o644, true, policy.Approve, "builtin:default.yaml:"},
		{"--policy owned by root but group-writable: its allow does not count", allowAll, 0, 0o664, false, policy.Approve, "builtin:default.yaml:"},
		{"--policy owned by root but world-writable: its allow does not count", allowAll, 0, 0o646, false, policy.Approve, "builtin:default.yaml:"},
		{"--policy owned by root, 0644: its allow decides", allowAll, 0, 0o644, false, policy.Allow, "p.yaml:2"},
		{"--policy owned by the agent's user can still deny", denyDeletes, nobody, 0o644, false, policy.Deny, "p.yaml:2"},
		{"user file owned by the agent's user can still deny", denyDeletes, nobody, 0o666, true, policy.Deny, "policy.yaml:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := policy.LoadOptions{}
			if tc.user {
				writePolicy(t, dir, "policy.yaml", tc.src, tc.uid, tc.mode)
				opts.ConfigDir = dir
			} else {
				opts.Files = []string{writePolicy(t, dir, "p.yaml", tc.src, tc.uid, tc.mode)}
			}
			e, err := policy.Load(opts)
			if err != nil {
				t.Fatal(err)
			}
			d := decide(t, e, &policy.Input{Assessment: del})
			if d.Action != tc.action || !strings.Contains(d.Rule, tc.rule) {
				t.Errorf("decision %s by %q, want %s by %q", d.Action, d.Rule, tc.action, tc.rule)
			}
		})
	}
}

// TestPolicyFilesTheAgentCouldWriteCannotLoosenOtherwise checks what such
// a file may not hold at all: allowPrivilege, looser limits. Each is a
// load error naming the file and saying where it belongs.
func TestPolicyFilesTheAgentCouldWriteCannotLoosenOtherwise(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct{ name, src string }{
		{"allowPrivilege", `
rules:
  - {class: privilege, decision: allow, allowPrivilege: true}
`},
		{"limits", `
limits:
  mutations: {max: 1000, window: 1m}
rules: []
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writePolicy(t, t.TempDir(), "p.yaml", tc.src, nobody, 0o644)
			_, err := policy.Load(policy.LoadOptions{Files: []string{p}})
			var le *policy.LoadError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "/etc/agentctl/policy.yaml") {
				t.Fatalf("want a load error naming %s and the admin file, got %v", p, err)
			}
			if _, err := policy.Load(policy.LoadOptions{Files: []string{writePolicy(t, t.TempDir(), "p.yaml", tc.src, 0, 0o644)}}); err != nil {
				t.Errorf("the same file owned by root: %v", err)
			}
		})
	}
}

// TestAdminPolicyMustBeRoots checks the admin layer: read when it exists,
// a load error (nothing runs) when someone other than root could write it.
func TestAdminPolicyMustBeRoots(t *testing.T) {
	needRoot(t)
	const allowDeletes = `
rules:
  - {class: destructive, decision: allow}
`
	del := &policy.Input{Assessment: kube(classify.Destructive, "delete", "Pod", "dev")}
	dir := t.TempDir()
	if _, err := policy.Load(policy.LoadOptions{AdminFile: filepath.Join(dir, "missing.yaml")}); err != nil {
		t.Fatalf("no admin file: %v", err)
	}
	good := writePolicy(t, dir, "good.yaml", allowDeletes, 0, 0o644)
	e, err := policy.Load(policy.LoadOptions{AdminFile: good})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := e.Decide(context.Background(), del); d.Action != policy.Allow {
		t.Errorf("admin allow: decision %s by %s", d.Action, d.Rule)
	}
	for _, bad := range []string{
		writePolicy(t, dir, "theirs.yaml", allowDeletes, nobody, 0o644),
		writePolicy(t, dir, "groupw.yaml", allowDeletes, 0, 0o664),
	} {
		if _, err := policy.Load(policy.LoadOptions{AdminFile: bad}); err == nil || !strings.Contains(err.Error(), "owned by root") {
			t.Errorf("%s: want a load error, got %v", bad, err)
		}
	}
}

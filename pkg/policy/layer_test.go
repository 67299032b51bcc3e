package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// TestLayering checks which layer decides: the most specific layer with a
// matching rule, except that a project layer can only tighten and no layer
// lets privilege run without a human unless it says allowPrivilege.
func TestLayering(t *testing.T) {
	userAllowsDev := layer(t, policy.LayerUser, "user.yaml", `
environments:
  - {name: dev, namespace: "dev-*"}
rules:
  - {env: dev, class: [write, destructive], decision: allow, message: dev is open}
`)
	flagDeniesDeletes := layer(t, policy.LayerFlag, "ci.yaml", `
rules:
  - {class: destructive, decision: deny, message: no deletes from CI}
`)
	flagAllowsAll := layer(t, policy.LayerFlag, "loose.yaml", `
rules:
  - {decision: allow}
`)
	flagAllowsPrivilege := layer(t, policy.LayerFlag, "rbac.yaml", `
rules:
  - {class: privilege, resource: rolebindings, namespace: "dev-*", decision: allow, allowPrivilege: true}
`)
	projectDeniesDeploys := layer(t, policy.LayerProject, "proj.yaml", `
rules:
  - {resource: deployments, decision: deny, message: the project forbids deployment changes}
`)
	projectAllowsAll := layer(t, policy.LayerProject, "proj-open.yaml", `
rules:
  - {decision: allow}
`)
	del := kube(classify.Destructive, "delete", "Deployment", "dev-web")
	prodDel := kube(classify.Destructive, "delete", "Deployment", "prod")
	rb := kube(classify.Privilege, "apply", "RoleBinding", "dev-web")
	for _, tc := range []struct {
		name    string
		layers  []policy.Layer
		a       *classify.Assessment
		action  policy.Action
		rule    string
		confirm bool
	}{
		{"default alone: delete needs approval", nil, del, policy.Approve, "builtin:default.yaml:", false},
		{"user layer allows deletes in dev", []policy.Layer{userAllowsDev}, del, policy.Allow, "user.yaml:4", false},
		{"user layer does not match prod: default decides", []policy.Layer{userAllowsDev}, prodDel, policy.Approve, "builtin:default.yaml:", false},
		{"--policy beats the user layer", []policy.Layer{userAllowsDev, flagDeniesDeletes}, del, policy.Deny, "ci.yaml:2", false},
		{"--policy silent on reads: the default decides", []policy.Layer{flagDeniesDeletes}, kube(classify.Read, "get", "Pod", "x"), policy.Sandbox, "builtin:default.yaml:", false},
		{"catch-all allow cannot allow privilege without the flag", []policy.Layer{flagAllowsAll}, rb, policy.Approve, "loose.yaml:2", true},
		{"catch-all allow cannot allow unknown without the flag", []policy.Layer{flagAllowsAll}, &classify.Assessment{Tool: "kubectl", Class: classify.Unknown}, policy.Approve, "loose.yaml:2", true},
		{"catch-all allow does allow a secret read: the user said so", []policy.Layer{flagAllowsAll}, kube(classify.Secret, "get", "Secret", "x"), policy.Allow, "loose.yaml:2", false},
		{"allowPrivilege lets a privilege rule allow", []policy.Layer{flagAllowsPrivilege}, rb, policy.Allow, "rbac.yaml:2", false},
		{"project tightens: deny beats the user's allow", []policy.Layer{userAllowsDev, projectDeniesDeploys}, del, policy.Deny, "proj.yaml:2", false},
		{"project cannot loosen: its allow loses to the default's approve", []policy.Layer{projectAllowsAll}, del, policy.Approve, "builtin:default.yaml:", false},
		{"project cannot loosen a read to unsandboxed", []policy.Layer{projectAllowsAll}, kube(classify.Read, "get", "Pod", "x"), policy.Sandbox, "builtin:default.yaml:", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(t, engine(t, policy.Options{}, tc.layers...), &policy.Input{Assessment: tc.a})
			if d.Action != tc.action || !strings.HasPrefix(d.Rule, tc.rule) || d.Confirm != tc.confirm {
				t.Errorf("got %s by %s confirm=%v (%s), want %s by %s confirm=%v", d.Action, d.Rule, d.Confirm, d.Message, tc.action, tc.rule, tc.confirm)
			}
		})
	}
}

func TestAllowPrivilegeIsLoud(t *testing.T) {
	l := layer(t, policy.LayerUser, "u.yaml", "rules:\n  - {class: privilege, decision: allow, allowPrivilege: true}\n")
	var warns []string
	engine(t, policy.Options{Warn: func(s string) { warns = append(warns, s) }}, l)
	if len(warns) != 1 || !strings.Contains(warns[0], "u.yaml:2") || !strings.Contains(warns[0], "without a human") {
		t.Errorf("warnings %q, want one naming u.yaml:2", warns)
	}
}

// TestLayerRestrictions checks what a layer of a kind may not hold.
func TestLayerRestrictions(t *testing.T) {
	def, _ := policy.Default()
	for _, tc := range []struct {
		name, src string
		kind      policy.LayerKind
		want      string
	}{
		{"allow privilege without the flag", "rules:\n  - {class: [write, privilege], decision: allow}\n", policy.LayerUser, "p.yaml:2: decision allow for class privilege or unknown needs allowPrivilege: true"},
		{"sandbox unknown without the flag", "rules:\n  - {class: unknown, decision: sandbox}\n", policy.LayerFlag, "p.yaml:2: decision sandbox"},
		{"allowPrivilege in a project", "rules:\n  - {class: privilege, decision: allow, allowPrivilege: true}\n", policy.LayerProject, "p.yaml:2: allowPrivilege is not allowed in a project policy"},
		{"looser limits in a project", "limits:\n  lockout: {denials: 1000, window: 1m}\n", policy.LayerProject, "limits.lockout at p.yaml:2: a project policy can only make limits stricter than 5 per 10m0s"},
		{"limits off in a tighten-only --policy file", "limits:\n  mutations: {max: 0}\n", "flag-untrusted", "a --policy file can only make limits stricter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind := tc.kind
			untrusted := kind == "flag-untrusted"
			if untrusted {
				kind = policy.LayerFlag
			}
			l := layer(t, kind, "p.yaml", tc.src)
			l.TightenOnly = untrusted
			_, err := policy.New([]policy.Layer{{Kind: policy.LayerDefault, File: def}, l}, policy.Options{})
			var le *policy.LoadError
			if !errors.As(err, &le) || le.ExitCode() != 78 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a LoadError (exit 78) containing %q", err, tc.want)
			}
		})
	}
}

// TestTightenOnlyEnvironmentsAreTheirOwn checks that a layer that may
// only tighten names environments for its own rules only: mapping the
// prod context to "dev" does not let the user layer's dev rule allow a
// delete in prod, while its own "nothing in prod" rule denies it.
func TestTightenOnlyEnvironmentsAreTheirOwn(t *testing.T) {
	def, _ := policy.Default()
	user := layer(t, policy.LayerUser, "user.yaml", `
environments:
  - {name: dev, servers: [{url: "https://10.0.0.9:6443"}]}
rules:
  - {env: dev, class: destructive, decision: allow}
`)
	sneaky := layer(t, policy.LayerProject, "proj.yaml", `
environments:
  - {name: dev, context: prod-eu}
rules: []
`)
	strict := layer(t, policy.LayerFlag, "ci.yaml", `
environments:
  - {name: live, context: prod-eu}
rules:
  - {env: live, class: destructive, decision: deny, message: nothing is deleted in prod}
`)
	strict.TightenOnly = true
	prodDel := kube(classify.Destructive, "delete", "Deployment", "web")
	prodDel.Target.Context = "prod-eu"
	e, err := policy.New([]policy.Layer{{Kind: policy.LayerDefault, File: def}, user, sneaky}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := decide(t, e, &policy.Input{Assessment: prodDel}); d.Action != policy.Approve || d.Env != "unknown" {
		t.Errorf("a project mapping prod to dev: decision %s in env %q, want approve in unknown", d.Action, d.Env)
	}
	e, err = policy.New([]policy.Layer{{Kind: policy.LayerDefault, File: def}, user, strict}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := decide(t, e, &policy.Input{Assessment: prodDel}); d.Action != policy.Deny || d.Rule != "ci.yaml:4" {
		t.Errorf("a tighten-only file's own prod rule: decision %s by %s, want deny by ci.yaml:4", d.Action, d.Rule)
	}
}

// TestTightenOnlyLayersMakeLimitsStricter checks that a layer that may
// only tighten still sets limits that are stricter than those in force.
func TestTightenOnlyLayersMakeLimitsStricter(t *testing.T) {
	def, _ := policy.Default()
	proj := layer(t, policy.LayerProject, "proj.yaml", "limits:\n  lockout: {denials: 2, window: 1h}\n")
	flag := layer(t, policy.LayerFlag, "ci.yaml", "limits:\n  mutations: {max: 5, window: 2h}\n")
	flag.TightenOnly = true
	e, err := policy.New([]policy.Layer{{Kind: policy.LayerDefault, File: def}, proj, flag}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if lo := e.Limits().Lockout; lo == nil || lo.Max != 2 || lo.Where != "proj.yaml:2" {
		t.Errorf("lockout %+v, want 2 per 1h from proj.yaml:2", lo)
	}
	if mu := e.Limits().Mutations; mu == nil || mu.Max != 5 || mu.Where != "ci.yaml:2" {
		t.Errorf("mutations %+v, want 5 per 2h from ci.yaml:2", mu)
	}
}

// TestLoadFindsLayers checks where Load looks: the user config dir, the
// project file walking up to the repository root, --policy files.
func TestLoadFindsLayers(t *testing.T) {
	root := t.TempDir()
	write := func(path, src string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo := filepath.Join(root, "repo")
	write(filepath.Join(repo, ".git", "HEAD"), "ref: refs/heads/main\n")
	write(filepath.Join(repo, ".agentctl", "policy.yaml"), "rules: [{class: write, decision: deny}]\n")
	write(filepath.Join(root, ".agentctl", "policy.yaml"), "rules: [{decision: deny}]\n") // above the repo: never read
	cfg := filepath.Join(root, "config", "agentctl")
	write(filepath.Join(cfg, "policy.yaml"), "rules: [{class: exec, decision: deny}]\n")
	flag := filepath.Join(root, "ci.yaml")
	write(flag, "rules: [{class: destructive, decision: deny}]\n")

	layers, err := policy.LoadLayers(policy.LoadOptions{Files: []string{flag}, Cwd: filepath.Join(repo, "deploy", "k8s"), ConfigDir: cfg})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range layers {
		got = append(got, string(l.Kind)+"="+l.File.Name)
	}
	want := []string{"default=builtin:default.yaml", "user=" + filepath.Join(cfg, "policy.yaml"), "project=" + filepath.Join(repo, ".agentctl", "policy.yaml"), "flag=" + flag}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("layers\n got %q\nwant %q", got, want)
	}

	if p := policy.FindProject(filepath.Join(root, "elsewhere")); p != "" {
		t.Errorf("outside a repository FindProject walked up to %q", p)
	}
	if _, err := policy.LoadLayers(policy.LoadOptions{Files: []string{filepath.Join(root, "missing.yaml")}}); err == nil {
		t.Error("a missing --policy file is not an error")
	}
}

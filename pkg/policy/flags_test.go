package policy_test

import (
	"strings"
	"testing"

	"github.com/agentctl/agentctl/pkg/classify"
	"github.com/agentctl/agentctl/pkg/policy"
)

// TestFlagsSection: a flags: entry makes the decision of a command that
// raised its flag stricter (approve, deny, lockout), never looser, and
// a command that raised no flag is decided as before. Every layer's
// entries count, the project's too, the strictest winning.
func TestFlagsSection(t *testing.T) {
	user := layer(t, policy.LayerUser, "u.yaml", `
flags:
  new-target: approve
  write-burst: lockout
rules:
  - {namespace: ["dev"], class: [write], decision: allow}
`)
	project := layer(t, policy.LayerProject, "p.yaml", "flags:\n  new-target: deny\n")
	e := engine(t, policy.Options{}, user)
	write := kube(classify.Write, "apply", "Deployment", "dev")
	if d := decide(t, e, &policy.Input{Assessment: write}); d.Action != policy.Allow {
		t.Fatalf("no flag: %s (%s), want the rule's allow", d.Action, d.Rule)
	}
	d := decide(t, e, &policy.Input{Assessment: write, Flags: []string{"new-target"}})
	if d.Action != policy.Approve || d.Rule != "flag:new-target" || !strings.Contains(d.Message, "flags.new-target at u.yaml:2") || d.Flags[0] != "new-target" {
		t.Fatalf("new-target: %+v, want approve by flag:new-target naming u.yaml:2", d)
	}
	if d := decide(t, e, &policy.Input{Assessment: write, Flags: []string{"new-class"}}); d.Action != policy.Allow {
		t.Fatalf("a flag the policy does not name: %s", d.Action)
	}
	if d := decide(t, e, &policy.Input{Assessment: write, Flags: []string{"new-target", "write-burst"}}); d.Action != policy.Deny || !d.Lockout || d.Rule != "flag:write-burst" {
		t.Fatalf("write-burst: %+v, want a lockout", d)
	}
	secret := kube(classify.Secret, "get", "Secret", "dev")
	if d := decide(t, e, &policy.Input{Assessment: secret, Flags: []string{"new-target"}}); d.Action != policy.Deny || d.Rule == "flag:new-target" {
		t.Fatalf("a denied command stays denied by its rule: %+v", d)
	}
	ep := engine(t, policy.Options{}, user, project)
	if d := decide(t, ep, &policy.Input{Assessment: write, Flags: []string{"new-target"}}); d.Action != policy.Deny || !strings.Contains(d.Message, "p.yaml:2") {
		t.Fatalf("with the project's deny: %+v", d)
	}
}

func TestFlagsSectionErrors(t *testing.T) {
	for src, want := range map[string]string{
		"flags:\n  new-agent: approve\n": `unknown flag "new-agent"`,
		"flags:\n  denials: allow\n":     `flags.denials: unknown action "allow"`,
		"flags: [denials]\n":             "flags must be a mapping",
	} {
		_, err := policy.Parse("f.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
}

// TestFlagsInCEL: a condition reads the flags the command raised.
func TestFlagsInCEL(t *testing.T) {
	e := engine(t, policy.Options{}, layer(t, policy.LayerUser, "u.yaml", `
rules:
  - {when: '"new-class" in flags && class == "write"', decision: deny, message: first change}
  - {namespace: ["dev"], class: [write], decision: allow}
`))
	write := kube(classify.Write, "apply", "Deployment", "dev")
	if d := decide(t, e, &policy.Input{Assessment: write, Flags: []string{"new-class"}}); d.Action != policy.Deny || d.Message != "first change" {
		t.Fatalf("new-class: %+v", d)
	}
	if d := decide(t, e, &policy.Input{Assessment: write}); d.Action != policy.Allow {
		t.Fatalf("no flag: %+v", d)
	}
}

// TestFlagLockoutIsRecorded: the denial of a flags: lockout locks the
// agent (only it) once observed; its later changes are denied naming
// the flag, its reads still decided as before.
func TestFlagLockoutIsRecorded(t *testing.T) {
	dir := t.TempDir()
	e := engine(t, policy.Options{StateDir: dir}, layer(t, policy.LayerUser, "u.yaml", "flags:\n  write-burst: lockout\n"))
	write := kube(classify.Write, "apply", "Deployment", "dev")
	in := &policy.Input{Assessment: write, Agent: "bot", Flags: []string{"write-burst"}}
	d := decide(t, e, in)
	if err := e.Observe(in, d, false); err != nil {
		t.Fatal(err)
	}
	d = decide(t, e, &policy.Input{Assessment: write, Agent: "bot"})
	if d.Rule != policy.RuleLockout || !strings.Contains(d.Message, "raised flag write-burst") {
		t.Fatalf("after the lockout: %+v", d)
	}
	if d := decide(t, e, &policy.Input{Assessment: kube(classify.Read, "get", "Pod", "dev"), Agent: "bot"}); d.Rule == policy.RuleLockout {
		t.Fatalf("a read: %+v", d)
	}
	if d := decide(t, e, &policy.Input{Assessment: write, Agent: "other"}); d.Rule == policy.RuleLockout {
		t.Fatalf("another agent: %+v", d)
	}
}

package grant

import (
	"sync"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/classify"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func kubectlDelete(ns string, objs ...classify.Resource) *classify.Assessment {
	if objs == nil {
		objs = []classify.Resource{{Kind: "ConfigMap", Namespace: ns, Name: "x", Action: "delete"}}
	}
	return &classify.Assessment{Tool: "kubectl", Class: classify.Destructive, Target: classify.Target{Context: "kind-a", Namespace: ns}, Resources: objs}
}

func stagingGrant() *Grant {
	return &Grant{ID: "g-1", Class: classify.Destructive, Namespace: "staging", Agent: "claude", Created: t0, Expires: t0.Add(30 * time.Minute)}
}

func TestCovers(t *testing.T) {
	tf := &classify.Assessment{Tool: "terraform", Class: classify.Destructive, Target: classify.Target{Workspace: "staging", Dir: "/infra"}}
	for _, tc := range []struct {
		name  string
		g     func(g *Grant)
		a     *classify.Assessment
		agent string
		at    time.Duration
		want  bool
	}{
		{name: "delete in the granted namespace", a: kubectlDelete("staging"), agent: "claude", want: true},
		{name: "another namespace", a: kubectlDelete("prod"), agent: "claude"},
		{name: "another class: a write in staging", a: &classify.Assessment{Tool: "kubectl", Class: classify.Write, Target: classify.Target{Namespace: "staging"},
			Resources: []classify.Resource{{Kind: "ConfigMap", Namespace: "staging"}}}, agent: "claude"},
		{name: "a higher class: privilege in staging", a: &classify.Assessment{Tool: "kubectl", Class: classify.Privilege, Target: classify.Target{Namespace: "staging"},
			Resources: []classify.Resource{{Kind: "Role", Namespace: "staging"}}}, agent: "claude"},
		{name: "another agent", a: kubectlDelete("staging"), agent: "codex"},
		{name: "no agent named: anonymous is another agent", a: kubectlDelete("staging"), agent: ""},
		{name: "a grant for any agent", g: func(g *Grant) { g.Agent = "" }, a: kubectlDelete("staging"), agent: "codex", want: true},
		{name: "-n staging but an object of another namespace (a manifest)", a: kubectlDelete("staging",
			classify.Resource{Kind: "ConfigMap", Namespace: "staging"}, classify.Resource{Kind: "ConfigMap", Namespace: "prod"}), agent: "claude"},
		{name: "--all-namespaces", a: kubectlDelete("staging", classify.Resource{Kind: "ConfigMap", Namespace: "*"}), agent: "claude"},
		{name: "a cluster-scoped object: delete namespace staging", a: kubectlDelete("staging", classify.Resource{Kind: "Namespace", Name: "staging"}), agent: "claude"},
		{name: "names no object", a: kubectlDelete("staging", []classify.Resource{}...), agent: "claude"},
		{name: "the grant's context", g: func(g *Grant) { g.Context = "kind-a" }, a: kubectlDelete("staging"), agent: "claude", want: true},
		{name: "another context", g: func(g *Grant) { g.Context = "kind-b" }, a: kubectlDelete("staging"), agent: "claude"},
		{name: "a namespace grant does not cover terraform", a: tf, agent: "claude"},
		{name: "a workspace grant covers terraform", g: func(g *Grant) { g.Namespace, g.Workspace = "", "staging" }, a: tf, agent: "claude", want: true},
		{name: "a workspace grant: another dir", g: func(g *Grant) { g.Namespace, g.Workspace, g.Dir = "", "staging", "/other" }, a: tf, agent: "claude"},
		{name: "a workspace grant does not cover kubectl", g: func(g *Grant) { g.Namespace, g.Workspace = "", "staging" }, a: kubectlDelete("staging"), agent: "claude"},
		{name: "one second before expiry", a: kubectlDelete("staging"), agent: "claude", at: 30*time.Minute - time.Second, want: true},
		{name: "at expiry", a: kubectlDelete("staging"), agent: "claude", at: 30 * time.Minute},
		{name: "revoked", g: func(g *Grant) { r := t0.Add(time.Minute); g.Revoked = &r }, a: kubectlDelete("staging"), agent: "claude", at: 2 * time.Minute},
		{name: "used up", g: func(g *Grant) { g.Max, g.Used = 2, 2 }, a: kubectlDelete("staging"), agent: "claude"},
		{name: "one use left", g: func(g *Grant) { g.Max, g.Used = 2, 1 }, a: kubectlDelete("staging"), agent: "claude", want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := stagingGrant()
			if tc.g != nil {
				tc.g(g)
			}
			got, why := g.Covers(tc.a, tc.agent, t0.Add(tc.at))
			if got != tc.want {
				t.Fatalf("Covers = %v (%s), want %v", got, why, tc.want)
			}
			if !got && why == "" {
				t.Fatal("a request not covered must say why")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    func(g *Grant)
		want string
	}{
		{"no target", func(g *Grant) { g.Namespace = "" }, "a grant needs --namespace (kubectl) or --workspace (terraform)"},
		{"both targets", func(g *Grant) { g.Workspace = "w" }, "cannot set --namespace and --workspace at the same time"},
		{"no duration", func(g *Grant) { g.Expires = g.Created }, "a grant needs a positive --for"},
		{"negative max", func(g *Grant) { g.Max = -1 }, "--max -1 is negative"},
		{"unknown class", func(g *Grant) { g.Class = classify.Unknown }, "class unknown cannot be granted: approve such commands one at a time"},
		{"dir without workspace", func(g *Grant) { g.Dir = "/x" }, "--dir needs --workspace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := stagingGrant()
			tc.g(g)
			err := g.Validate()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
	if err := stagingGrant().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestStoreUseCountsUntilMaxThenRevoke(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	now := time.Now()
	g := stagingGrant()
	g.Created, g.Expires, g.Max = now, now.Add(time.Hour), 3
	other := stagingGrant()
	other.ID, other.Namespace, other.Created, other.Expires = "g-2", "dev", now, now.Add(time.Hour)
	for _, x := range []*Grant{g, other} {
		if err := s.Add(x); err != nil {
			t.Fatal(err)
		}
	}
	// Three uses from concurrent requests: exactly three get the grant.
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got = map[string]int{}
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.Use(kubectlDelete("staging"), "claude", now)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if u == nil {
				got["none"]++
			} else {
				got[u.ID]++
			}
		}()
	}
	wg.Wait()
	if got["g-1"] != 3 || got["none"] != 5 {
		t.Fatalf("uses = %v, want g-1 three times and five refused", got)
	}
	gs, _, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if gs[0].Used != 3 || gs[0].Status(now) != "used up" {
		t.Fatalf("after 3 uses: used %d, status %q", gs[0].Used, gs[0].Status(now))
	}
	// dev's grant still works, until it is revoked.
	if u, _ := s.Use(kubectlDelete("dev"), "claude", now); u == nil || u.ID != "g-2" {
		t.Fatalf("dev request: got %+v, want grant g-2", u)
	}
	if err := s.Revoke("g-2", now); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.Use(kubectlDelete("dev"), "claude", now.Add(time.Second)); u != nil {
		t.Fatalf("after revoke: the grant %s still covers", u.ID)
	}
	if err := s.Revoke("g-nope", now); err == nil {
		t.Fatal("revoking an unknown id must fail")
	}
}

func TestStoreRefusesACorruptFile(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	if err := s.Add(stagingGrant()); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(s.Dir+"/grants.json", "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Use(kubectlDelete("staging"), "claude", t0); err == nil {
		t.Fatal("a corrupt grants file must be an error, not an empty list")
	}
}

package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/agentctl/agentctl/pkg/approve"
	"github.com/agentctl/agentctl/pkg/proposal"
)

// The screens of agentctl approve BUNDLE: a proposal bundle as the
// proposing job writes it, shown as approve.BundleScreen builds it.

func terraformBundle() *proposal.Bundle {
	serial := uint64(5)
	return &proposal.Bundle{Version: 1, Tool: "terraform", Class: "write",
		SHA256:  "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a3c5b7d9f1e",
		Reasons: []string{"write: apply changes 1 resource(s)"},
		Target:  proposal.Target{Workspace: "default", Backend: "local", Dir: "/home/ci/fleet"},
		Summary: replacePlan, Created: t0, Expires: t0.Add(24 * time.Hour),
		Nonce: "3c1f9a7e5b2d4c6e8a0b1d3f5e7c9a1b3d5f7e9c1a3b5d7f9e1c3a5b7d9f1e3a",
		Pins:  proposal.Pins{StateLineage: "6a1f0c2e-8d4b-4e7a-9c3f-1b5d7e9a2c4f", StateSerial: &serial}}
}

func kubectlPrivilegeBundle() *proposal.Bundle {
	return &proposal.Bundle{Version: 1, Tool: "kubectl", Class: "privilege",
		SHA256:  "1e3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a",
		Reasons: []string{"privilege: binds ClusterRole cluster-admin to ServiceAccount shop/deployer"},
		Target: proposal.Target{Context: "prod-eu", Cluster: "prod-eu", Namespace: "shop", Server: "https://10.0.0.1:6443",
			CAFingerprint: "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"},
		Summary: "+kind: ClusterRoleBinding\n+metadata:\n+  name: deployer-admin\n+roleRef:\n+  name: cluster-admin\n",
		Created: t0, Expires: t0.Add(time.Hour),
		Nonce: "64c0ffee00000000000000000000000000000000000000000000000000000001",
		Pins:  proposal.Pins{ClusterUID: "0f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0"}}
}

func TestGoldenBundleScreens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     func() *approve.Screen
		msgs  []tea.Msg
		wants []string
	}{
		{"terraform_write", func() *approve.Screen {
			return approve.BundleScreen(terraformBundle(), "/home/ci/fleet/prod.tfplan.proposal.json", "/home/ci/fleet/prod.tfplan", "the plan file beside the bundle has this sha256", t0.Add(5*time.Minute))
		}, nil, []string{"terraform apply /home/ci/fleet/prod.tfplan", "proposal prod.tfplan.proposal.json", "workspace=default", "a approve", "Denied at 12:05:00"}},
		{"kubectl_privilege_confirm", func() *approve.Screen {
			return approve.BundleScreen(kubectlPrivilegeBundle(), "/w/rbac.yaml.proposal.json", "/w/rbac.yaml", "the manifests at /w/rbac.yaml (apply -f) flatten to this sha256", t0.Add(5*time.Minute))
		}, []tea.Msg{press("a")}, []string{"kubectl apply -f /w/rbac.yaml", "type prod-eu to approve"}},
	} {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s_%dx%d", tc.name, sz[0], sz[1]), func(t *testing.T) {
				m := NewModel(tc.s(), Options{NoColor: true, Now: func() time.Time { return t0 }, Width: sz[0], Height: sz[1], Location: time.UTC})
				m = drive(m, tc.msgs...)
				view := m.View()
				checkFits(t, view, sz[0], sz[1])
				for _, w := range tc.wants {
					if !strings.Contains(view, w) {
						t.Errorf("screen lacks %q:\n%s", w, view)
					}
				}
				if m.Done() {
					t.Errorf("one key decided the screen: %+v", m.Verdict())
				}
				golden.RequireEqual(t, []byte(view))
			})
		}
	}
}

// A bundle is the agent's: an escape sequence in it does not reach the
// approver's terminal, and a class agentctl does not know asks for the
// typed name, as an unknown change does.
func TestBundleScreenOfAHostileBundle(t *testing.T) {
	b := terraformBundle()
	b.Class = "harmless"
	b.Reasons = []string{"read: \x1b[2J\x1b[Hnothing to see"}
	b.Target.Workspace = "prod\x1b]0;owned\x07"
	s := approve.BundleScreen(b, "/x/p.tfplan.proposal.json", "/x/p.tfplan", "", t0.Add(time.Minute))
	if !s.Confirm || s.Class.String() != "unknown" {
		t.Errorf("class %q confirm %v, want unknown with a typed name", s.Class, s.Confirm)
	}
	m := NewModel(s, Options{NoColor: true, Now: func() time.Time { return t0 }, Width: 120, Height: 40, Location: time.UTC})
	if v := m.View(); strings.ContainsAny(v, "\x1b\x07") {
		t.Errorf("an escape reached the screen: %q", v)
	}
}

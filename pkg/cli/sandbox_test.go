package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/agentctl/agentctl/sandbox"
)

func TestSandboxStatus(t *testing.T) {
	tests := []struct {
		name     string
		st       sandbox.Status
		json     bool
		want     []string
		wantJSON func(sandbox.Summary) bool
	}{
		{name: "full support", st: sandbox.Status{LandlockABI: 7, UserNS: true, NetNS: true},
			want: []string{"landlock ABI:               7", "TCP connect/bind rules:   yes", "only granted paths exist: yes", "pathname Unix sockets:    yes", "sandbox: required can be met"}},
		{name: "user namespaces blocked by AppArmor",
			st:   sandbox.Status{LandlockABI: 4, NamespaceError: "operation not permitted", Hints: []string{"kernel/apparmor_restrict_unprivileged_userns = 1"}},
			want: []string{"user namespace:             NO", "apparmor_restrict_unprivileged_userns = 1", "pathname Unix sockets:    NO", "sandbox: required cannot be met: user namespace; network namespace", "hint: "}},
		{name: "no landlock, json", json: true, st: sandbox.Status{LandlockError: "landlock unavailable", UserNS: true, NetNS: true},
			wantJSON: func(s sandbox.Summary) bool {
				return !s.RequiredOK && len(s.Missing) == 1 && s.Missing[0] == "landlock filesystem rules" && !s.Features.FS && s.Hint != ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, _ := Test()
			f := &Factory{IO: ios}
			if tt.json {
				f.Global.Output = "json"
			}
			cmd := newSandboxStatusCmd(f, func() sandbox.Status { return tt.st })
			cmd.SetArgs(nil)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if tt.wantJSON != nil {
				var s sandbox.Summary
				if err := json.Unmarshal(out.Bytes(), &s); err != nil || !tt.wantJSON(s) {
					t.Errorf("json = %s (%v)", out, err)
				}
			}
		})
	}
}

package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/policy"
)

func TestConvergenceSetting(t *testing.T) {
	def, _ := policy.Default()
	if e := engine(t, policy.Options{}); e.Convergence().Timeout != 0 {
		t.Errorf("default convergence timeout %s, want off", e.Convergence().Timeout)
	}
	user := layer(t, policy.LayerUser, "user.yaml", "convergence: {timeout: 2m}\n")
	if e := engine(t, policy.Options{}, user); e.Convergence().Timeout != 2*time.Minute || e.Convergence().Where != "user.yaml:1" {
		t.Errorf("convergence %+v, want 2m from user.yaml:1", e.Convergence())
	}
	// An agent-writable layer may wait longer, never turn the check off.
	longer := layer(t, policy.LayerProject, "proj.yaml", "convergence: {timeout: 5m}\n")
	longer.TightenOnly = true
	if e, err := policy.New([]policy.Layer{{Kind: policy.LayerDefault, File: def}, user, longer}, policy.Options{}); err != nil || e.Convergence().Timeout != 5*time.Minute {
		t.Errorf("a tighten-only layer's longer timeout: %v %+v", err, e)
	}
	off := layer(t, policy.LayerProject, "proj.yaml", "convergence: {timeout: off}\n")
	off.TightenOnly = true
	_, err := policy.New([]policy.Layer{{Kind: policy.LayerDefault, File: def}, user, off}, policy.Options{})
	if err == nil || !strings.Contains(err.Error(), "can only make the convergence timeout longer") {
		t.Errorf("a tighten-only layer turning convergence off: err = %v", err)
	}
	for _, bad := range []string{"convergence: {timeout: soon}\n", "convergence: {}\n", "convergence: {timeout: 1m, wait: yes}\n"} {
		if _, err := policy.Parse("bad.yaml", []byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

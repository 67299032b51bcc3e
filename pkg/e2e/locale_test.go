package e2e_test

import (
	"strings"
	"testing"
)

// TestKubectlMessagesFollowTheLocale checks that the embedded kubectl
// prints what upstream kubectl prints in every locale: agentctl skips
// loading kubectl's English catalogue (it is the identity) and must still
// load a real translation, also inside the sandbox child.
func TestKubectlMessagesFollowTheLocale(t *testing.T) {
	for _, lang := range []string{"", "C.UTF-8", "en_US.UTF-8", "de_DE.UTF-8", "ja_JP.UTF-8"} {
		for _, args := range [][]string{{"--help"}, {"create", "--help"}} {
			name := "LANG=" + lang + " kubectl " + strings.Join(args, " ")
			t.Run(name, func(t *testing.T) {
				e := newEnv(t)
				vars := e.vars[:0:0]
				for _, kv := range e.vars {
					if !strings.HasPrefix(kv, "LANG=") && !strings.HasPrefix(kv, "LC_") {
						vars = append(vars, kv)
					}
				}
				e.vars = append(vars, "LANG="+lang)
				want := e.kubectl(args...)
				got := e.agentctl(append([]string{"kubectl"}, args...)...)
				if got != want {
					t.Errorf("agentctl kubectl differs from upstream kubectl\nagentctl (exit %d):\n%.600s\nkubectl (exit %d):\n%.600s", got.code, got.stdout+got.stderr, want.code, want.stdout+want.stderr)
				}
			})
		}
	}
}

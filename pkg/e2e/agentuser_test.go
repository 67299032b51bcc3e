package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestAgentRunsAsAnOrdinaryUser checks the harness the bypass tests play
// the agent with: as root, the commands run as nobody, whose sandboxed
// read still works and whose audit log is its own; the admin files stay
// root's and out of its reach.
func TestAgentRunsAsAnOrdinaryUser(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	e := newAgentEnv(t)
	kc := e.give(c.Kubeconfig(t, testenv.UserAdmin))

	got := e.agentctl("kubectl", "--kubeconfig", kc, "-n", ns, "get", "cm", "app-config", "-o", "name")
	if got.code != 0 || strings.TrimSpace(got.stdout) != "configmap/app-config" {
		t.Fatalf("sandboxed read as the agent: exit %d\nstdout: %s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	var found bool
	filepath.Walk(e.home, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".jsonl") {
			found = true
			if st := info.Sys().(*syscall.Stat_t); int(st.Uid) != e.agent.UID {
				t.Errorf("audit log %s is owned by uid %d, want the agent's %d", p, st.Uid, e.agent.UID)
			}
		}
		return nil
	})
	if !found {
		t.Errorf("no audit log under the agent's home %s", e.home)
	}
	if e.agent.Root() {
		w := e.run("/bin/sh", "-c", "id -u; touch "+build.dir+"/x 2>/dev/null && echo wrote")
		if strings.Contains(w.stdout, "wrote") || strings.HasPrefix(w.stdout, "0\n") {
			t.Errorf("the agent is root or can write root's build directory: %q", w.stdout)
		}
	}
}

package e2e_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestNoSandboxChildOutlivesAgentctl checks the sandbox child that
// agentctl starts while it initialises, before it knows the decision: a
// read runs in it, and whatever the outcome (read, refusal, a command
// kubectl rejects) no child is left running once agentctl has exited.
func TestNoSandboxChildOutlivesAgentctl(t *testing.T) {
	c := testenv.Start(t)
	ns := c.NewNamespace(t)
	c.Apply(t, ns, webFixtures)
	admin := c.Kubeconfig(t, testenv.UserAdmin)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"sandboxed read", []string{"kubectl", "--kubeconfig", admin, "-n", ns, "get", "cm", "app-config"}, 0},
		{"refused delete", []string{"kubectl", "--kubeconfig", admin, "-n", ns, "delete", "cm", "app-config"}, exitDenied},
		{"flag kubectl rejects", []string{"kubectl", "--kubeconfig", admin, "get", "cm", "--no-such-flag"}, exitDenied},
		{"agentctl usage error", []string{"--output", "yaml", "kubectl", "get", "cm"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			got := e.agentctl(tc.args...)
			if got.code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", got.code, tc.code, got.stdout, got.stderr)
			}
			if tc.code == 0 && !bytes.Contains([]byte(got.stdout), []byte("app-config")) {
				t.Fatalf("the read printed no app-config:\n%s", got.stdout)
			}
			// The kernel kills a child whose parent has died; give it a
			// moment to be reaped. Only a hang would take this long.
			deadline := time.Now().Add(10 * time.Second)
			for {
				left := sandboxChildrenIn(e.dir)
				if len(left) == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("sandbox children still running after agentctl exited: pids %v", left)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// sandboxChildrenIn returns the live processes that are sandbox children
// (their environment has the marker) working in dir, which is where
// agentctl started them: each test runs agentctl in a directory of its
// own.
func sandboxChildrenIn(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		proc := filepath.Join("/proc", ent.Name())
		if cwd, err := os.Readlink(filepath.Join(proc, "cwd")); err != nil || cwd != dir {
			continue
		}
		environ, err := os.ReadFile(filepath.Join(proc, "environ"))
		if err != nil || !bytes.Contains(environ, []byte("AGENTCTL_SANDBOX=child")) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join(proc, "stat")); err == nil && bytes.Contains(stat, []byte(") Z ")) {
			continue // a zombie has exited; its reaper has not yet looked
		}
		pids = append(pids, pid)
	}
	return pids
}

package e2e_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSandboxProbeChildInitialisesNothing checks the child that
// `agentctl version` and `agentctl sandbox status` start to see whether
// user and network namespaces work: it answers before the rest of the
// binary (kubectl's packages above all) initialises, so that the probe
// costs a process start and not a second start of agentctl.
func TestSandboxProbeChildInitialisesNothing(t *testing.T) {
	bin := agentctlBin(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(bin)
	cmd.Env = []string{"AGENTCTL_SANDBOX=probe", "GODEBUG=inittrace=1"}
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	answer, _ := io.ReadAll(r)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("probe child: %v\n%s", err, stderr.String())
	}
	if string(answer) != "ok" {
		t.Fatalf("probe child answered %q, want \"ok\"", answer)
	}
	var late []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" && strings.HasPrefix(f[1], "k8s.io/kubectl/") {
			late = append(late, f[1])
		}
	}
	if len(late) > 0 {
		t.Fatalf("the probe child initialised %d of kubectl's packages before answering (first %s): it costs a whole start of agentctl", len(late), late[0])
	}
}

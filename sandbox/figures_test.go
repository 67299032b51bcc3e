package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// TestFigures measures, against the real test cluster, raw kubectl versus
// `agentctl kubectl get pods` unsandboxed and sandboxed, and prints the
// medians and ratios. It asserts nothing about time (figures are not
// tests) and runs only from testdata/tools/bench-sandbox.sh, which builds
// agentctl and names it in AGENTCTL_BENCH_AGENTCTL.
func TestFigures(t *testing.T) {
	agentctl := os.Getenv("AGENTCTL_BENCH_AGENTCTL")
	if agentctl == "" {
		t.Skip("run testdata/tools/bench-sandbox.sh")
	}
	runs := 25
	if n, err := fmt.Sscan(os.Getenv("AGENTCTL_BENCH_RUNS"), &runs); n != 1 || err != nil {
		runs = 25
	}
	c := testenv.Start(t)
	kubectl := testenv.Bin(t, "kubectl")
	ns := c.NewNamespace(t)
	for i := range 5 {
		c.Apply(t, ns, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: p%d}\nspec: {containers: [{name: c, image: busybox}]}\n", i))
	}
	kc := c.Kubeconfig(t, testenv.UserAdmin)
	home := t.TempDir()
	allow := filepath.Join(home, "allow-reads.yaml")
	mkfile(t, allow, "version: 1\nrules:\n  - name: bench-reads-unsandboxed\n    class: read\n    decision: allow\n")
	env := []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"), "KUBECONFIG=" + kc,
		"XDG_STATE_HOME=" + filepath.Join(home, "state"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
	}
	// agentctl's kubectl reads no discovery cache from disk (the agent
	// could write it): this variant prices that in the same run, a raw
	// kubectl whose cache directory is emptied before each run.
	nocache := filepath.Join(home, "no-cache")
	variants := []struct {
		name string
		argv []string
	}{
		{"raw kubectl", []string{kubectl, "get", "pods", "-n", ns}},
		{"raw kubectl, no discovery cache", []string{kubectl, "--cache-dir", nocache, "get", "pods", "-n", ns}},
		{"agentctl unsandboxed", []string{agentctl, "--non-interactive", "--policy", allow, "kubectl", "get", "pods", "-n", ns}},
		{"agentctl sandboxed", []string{agentctl, "--non-interactive", "kubectl", "get", "pods", "-n", ns}},
	}
	times := make([][]time.Duration, len(variants))
	for i := range runs + 1 {
		for v, vr := range variants { // interleaved, so drift hits all alike
			if err := os.RemoveAll(nocache); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			cmd := exec.Command(vr.argv[0], vr.argv[1:]...)
			cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &out
			start := time.Now()
			err := cmd.Run()
			d := time.Since(start)
			if err != nil || !strings.Contains(out.String(), "p4") {
				t.Fatalf("%s: %v\n%s", vr.name, err, out.String())
			}
			if i > 0 { // the first round warms caches
				times[v] = append(times[v], d)
			}
		}
	}
	var report strings.Builder
	fmt.Fprintf(&report, "| command (median of %d runs) | wall | ratio to raw kubectl |\n|---|---|---|\n", runs)
	base := testenv.Median(times[0])
	for v, vr := range variants {
		m := testenv.Median(times[v])
		fmt.Fprintf(&report, "| %s | %.1f ms | %.2f× |\n", vr.name, testenv.Ms(m), float64(m)/float64(base))
	}
	fmt.Fprintf(&report, "\nsandboxed vs unsandboxed agentctl: %.2f×\n", float64(testenv.Median(times[3]))/float64(testenv.Median(times[2])))
	t.Log("\n" + report.String())
	if out := os.Getenv("AGENTCTL_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(report.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

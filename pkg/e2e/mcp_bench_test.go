package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/agentctl/agentctl/pkg/testenv"
)

// BenchmarkMCPCallOverCLI measures what a kubectl get costs through
// `agentctl mcp` (one session, as an MCP client keeps it) against the same
// get through the one-shot CLI, in the same run: the figure is the ratio
// (mcp/cli), with both medians.
func BenchmarkMCPCallOverCLI(b *testing.B) {
	c := testenv.Start(b)
	ns := c.NewNamespace(b)
	c.Apply(b, ns, webFixtures)
	kc := c.Kubeconfig(b, testenv.UserAdmin)
	home, dir := b.TempDir(), b.TempDir()
	vars := []string{"HOME=" + home, "CI=true", "PATH=" + os.Getenv("PATH")}
	if v := os.Getenv("AGENTCTL_TESTBIN"); v != "" {
		vars = append(vars, "AGENTCTL_TESTBIN="+v)
	}
	bin := agentctlBin(b)
	argv := []string{"--kubeconfig", kc, "-n", ns, "get", "cm", "app-config", "-o", "name"}

	cmd := exec.Command(bin, "mcp")
	cmd.Env, cmd.Dir = vars, dir
	ctx, cancel := context.WithTimeout(context.Background(), 10*hang)
	defer cancel()
	s, err := mcp.NewClient(&mcp.Implementation{Name: "bench"}, nil).Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()

	var viaCLI, viaMCP []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		cli := exec.CommandContext(ctx, bin, append([]string{"kubectl"}, argv...)...)
		cli.Env, cli.Dir = vars, dir
		out, err := cli.Output()
		viaCLI = append(viaCLI, time.Since(start))
		if err != nil || strings.TrimSpace(string(out)) != "configmap/app-config" {
			b.Fatalf("cli: %v: %s", err, out)
		}
		start = time.Now()
		res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "kubectl", Arguments: map[string]any{"argv": argv}})
		viaMCP = append(viaMCP, time.Since(start))
		if err != nil || res.IsError {
			b.Fatalf("mcp: %v %v", err, res)
		}
	}
	b.StopTimer()
	cm, mm := testenv.Median(viaCLI), testenv.Median(viaMCP)
	b.ReportMetric(testenv.Ms(cm), "cli-ms")
	b.ReportMetric(testenv.Ms(mm), "mcp-ms")
	b.ReportMetric(float64(mm)/float64(cm), "mcp/cli")
}
